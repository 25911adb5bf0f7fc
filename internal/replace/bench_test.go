package replace

import (
	"context"

	"hash/fnv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/formats"
	"github.com/loglambda/loglambda/schemas/views"
)

// demoDocs returns the speed documents of the demo's traffic (100 events/s,
// 4 partitions by the generator's key) over d, per view in views.Names
// order: what speed writes for d of backlog.
func demoDocs(tb testing.TB, d time.Duration) [][]Doc {
	tb.Helper()
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	g, err := gen.New(gen.Seed(1), gen.Rate(100), gen.Start(start), gen.Count(int64(d.Seconds()*100)))
	if err != nil {
		tb.Fatal(err)
	}
	p, _ := formats.New("json")
	hot, _ := formats.NewHotTerm("param:q,Input")
	uv, _ := formats.NewUVField(formats.DefaultUVField)
	type key struct {
		pane time.Time
		part int32
	}
	panes := map[key]*views.Pane{}
	var order []key
	var ev event.Event
	for !g.Done() {
		r := g.Next()
		h := fnv.New32a()
		h.Write(r.Key)
		formats.ParseLineTo(&ev, p, hot, r.Line, r.Time)
		uv.Apply(&ev)
		k := key{ev.Time.Truncate(time.Minute), int32(h.Sum32() % 4)}
		pn := panes[k]
		if pn == nil {
			pn = views.NewPane(views.DefaultHotCapacity)
			panes[k] = pn
			order = append(order, k)
		}
		pn.Add(&ev)
		if pn.Traffic.PV == 1024 {
			pn.Traffic.Densify() // as speed does
		}
	}
	out := make([][]Doc, len(views.Names))
	for _, k := range order {
		for i, view := range views.Names {
			state, err := panes[k].Encode(view)
			if err != nil {
				tb.Fatal(err)
			}
			id := views.DocID(view, k.pane, k.part)
			out[i] = append(out[i], Doc{ID: id, Body: views.Doc{ID: id, View: view, Pane: k.pane, PaneEnd: k.pane.Add(time.Minute),
				Partition: k.part, Offset: 1, Updated: start, State: state, Summary: panes[k].Summary(view)}})
		}
	}
	return out
}

func startMongo(tb testing.TB) *mongo.Database {
	tb.Helper()
	m, err := embedded.StartMongo(embedded.MongoConfig{DataDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(m.Close)
	mc, err := mongo.Connect(options.Client().ApplyURI(m.URI()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	return mc.Database("loglambda")
}
