package replace

import (
	"context"
	"fmt"

	"github.com/loglambda/loglambda/internal/testkit"

	"hash/fnv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/schemas/collections"
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
			id := collections.DocID(view, k.pane, k.part)
			out[i] = append(out[i], Doc{ID: id, Body: collections.Doc{ID: id, View: view, Pane: k.pane, PaneEnd: k.pane.Add(time.Minute),
				Partition: k.part, Offset: 1, Updated: start, State: state, Summary: panes[k].Summary(view)}})
		}
	}
	return out
}

func startMongo(tb testing.TB) *mongo.Database {
	tb.Helper()
	return testkit.MongoClient(tb).Database("loglambda")
}

// BenchmarkWriter writes 20 minutes of the demo's speed documents per view
// (4 partitions) through a Writer into an empty collection (hinted new:
// inserts), then again over the existing documents (replaces, as a second
// flush or a recompute does),
// and beside it inserts the same documents with plain InsertMany commands
// of the same size into another empty collection of the same server: the
// store's own rate, the limit of the writer, measured first. Metrics:
// documents and bytes (BSON) per second, documents per CPU-second of the
// process (client and embedded server), and the writer's rate as a share
// of raw-insert's (x-of-raw, x-of-raw-cpu).
func BenchmarkWriter(b *testing.B) {
	docs := demoDocs(b, 20*time.Minute)
	db := startMongo(b)
	ctx := context.Background()
	w, err := New()
	if err != nil {
		b.Fatal(err)
	}
	run := 0 // collection names unique across -count runs
	for i, view := range views.Names {
		vd := docs[i]
		var size int64
		raw := make([]any, len(vd))
		for j, d := range vd {
			data, err := bson.Marshal(d.Body)
			if err != nil {
				b.Fatal(err)
			}
			size += int64(len(data))
			raw[j] = bson.Raw(data)
		}
		// wall and cpu are raw-insert's times for one write of vd, the
		// writer's limit in the same run.
		var rawWall, rawCPU float64
		report := func(b *testing.B, n int, cpu time.Duration) (wall, cpuPer float64) {
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(n*len(vd))/s, "docs/s")
			b.ReportMetric(float64(int64(n)*size)/s/1e6, "MB/s")
			b.ReportMetric(float64(size)/float64(len(vd)), "B/doc")
			if cpu > 0 {
				b.ReportMetric(float64(n*len(vd))/cpu.Seconds(), "docs/cpu-s")
			}
			return s / float64(n), cpu.Seconds() / float64(n)
		}
		b.Run(view+"/raw-insert", func(b *testing.B) {
			var cpu time.Duration
			for it := 0; it < b.N; it++ {
				b.StopTimer()
				run++
				coll := db.Collection(fmt.Sprintf("raw_%s_%d", view, run))
				cpu0 := testkit.CPUTime()
				b.StartTimer()
				for j := 0; j < len(raw); j += MaxBatch {
					if _, err := coll.InsertMany(ctx, raw[j:min(j+MaxBatch, len(raw))]); err != nil {
						b.Fatal(err)
					}
				}
				cpu += testkit.CPUTime() - cpu0
			}
			rawWall, rawCPU = report(b, b.N, cpu)
		})
		// The writer's rate as a share of raw-insert's (x-of-raw, wall;
		// x-of-raw-cpu, per CPU-second: the machine is shared): the aim is
		// >= 0.5 (issue 20.5). writer-fenced writes as speed does (each
		// document with its writer's epoch: an update by _id instead of a
		// replace, FenceField).
		for _, variant := range []struct {
			name  string
			epoch int64
		}{{"writer", 0}, {"writer-fenced", 1}} {
			b.Run(view+"/"+variant.name, func(b *testing.B) {
				var cpu time.Duration
				for it := 0; it < b.N; it++ {
					b.StopTimer()
					run++
					coll := db.Collection(fmt.Sprintf("writer_%s_%d", view, run))
					cpu0 := testkit.CPUTime()
					b.StartTimer()
					for _, isNew := range []bool{true, false} { // first write, then over existing documents
						for j := range vd {
							vd[j].New, vd[j].Epoch = isNew, variant.epoch
						}
						if _, err := w.Replace(ctx, coll, vd); err != nil {
							b.Fatal(err)
						}
					}
					cpu += testkit.CPUTime() - cpu0
				}
				wall, cpuPer := report(b, 2*b.N, cpu)
				if rawWall > 0 {
					b.ReportMetric(rawWall/wall, "x-of-raw")
				}
				if rawCPU > 0 && cpuPer > 0 {
					b.ReportMetric(rawCPU/cpuPer, "x-of-raw-cpu")
				}
			})
		}
	}
}
