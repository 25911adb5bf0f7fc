package serving

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
	"github.com/loglambda/loglambda/schemas/views"
)

// One embedded MongoDB-compatible server for the package's tests and
// benchmarks; each test uses a database of its own.
var testMongoURI string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "serving-test-mongo")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mg, err := embedded.StartMongo(embedded.MongoConfig{DataDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testMongoURI = mg.URI()
	code := m.Run()
	mg.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testDB returns a fresh database for the test.
func testDB(tb testing.TB) *mongo.Database {
	tb.Helper()
	cl, err := mongo.Connect(options.Client().ApplyURI(testMongoURI))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cl.Disconnect(context.Background()) })
	name := strings.NewReplacer("/", "_", " ", "_").Replace(tb.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	db := cl.Database(name)
	if err := db.Drop(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// genSpec describes a deterministic stream of events.
type genSpec struct {
	from, to   time.Time
	perPane    int // events per pane
	partitions int32
	terms      int    // distinct hot terms (Zipf-like frequencies)
	prefix     string // hot term prefix, to tell streams apart
	users, ips int
	seed       uint64
	// paths, when set, spreads the events over that many URL paths
	// (Zipf-like, drawn from a stream of their own so the rest is the
	// same); else every event is a /search.
	paths int
}

// gen returns the events of spec, spread over its panes and partitions.
func gen(spec genSpec) []event.Event {
	r := rand.New(rand.NewPCG(spec.seed, 1))
	zipf := rand.NewZipf(r, 1.3, 1, uint64(spec.terms-1))
	var pathZipf *rand.Zipf
	if spec.paths > 1 {
		pathZipf = rand.NewZipf(rand.New(rand.NewPCG(spec.seed, 2)), 1.1, 1, uint64(spec.paths-1))
	}
	var evs []event.Event
	for p := spec.from; p.Before(spec.to); p = p.Add(time.Minute) {
		for i := 0; i < spec.perPane; i++ {
			ev := event.Event{
				Time:      p.Add(time.Duration(r.Int64N(int64(time.Minute)))),
				IP:        fmt.Sprintf("10.0.%d.%d", r.IntN(spec.ips)/250, r.IntN(spec.ips)%250),
				Method:    "GET",
				Path:      "/search",
				Status:    200,
				Bytes:     int64(100 + r.IntN(1000)),
				LatencyMS: float64(1 + r.IntN(300)),
				Partition: int32(r.IntN(int(spec.partitions))),
			}
			if pathZipf != nil {
				ev.Path = fmt.Sprintf("/product/%d", pathZipf.Uint64())
			}
			if r.IntN(10) > 0 {
				ev.User = fmt.Sprintf("u%d", r.IntN(spec.users))
			}
			if r.IntN(5) > 0 {
				ev.HotTerm = fmt.Sprintf("%s%d", spec.prefix, zipf.Uint64())
			}
			// Levels, from what was drawn (the stream stays the same):
			// some events name no host or instance, some only a host.
			ev.Level = []string{"INFO", "WARN", "ERROR", "", "INFO"}[i%5]
			switch ev.Bytes % 5 {
			case 0:
			case 1:
				ev.Host = fmt.Sprintf("%sweb", spec.prefix)
			default:
				ev.Host = "ignored-host"
				ev.Instance = fmt.Sprintf("%sdb-%d", spec.prefix, ev.Bytes%3)
			}
			var tmpl string
			ev.Msg, tmpl = fixtureMessage(ev.Time, i, ev.Bytes)
			ev.Fields = map[string]string{"template": tmpl} // the truth, beside the event
			evs = append(evs, ev)
		}
	}
	return evs
}

// fixtureNewKind is when the fixture's new kind of error starts: half an
// hour after the horizon.
var fixtureNewKind = time.Date(2026, 11, 20, 12, 30, 0, 0, time.UTC)

// fixtureMessage is the message of the i-th event of a pane at t and the
// template the patterns view must put it under, written out here (its
// variables are numbers and addresses, so any miner agrees on it). From
// fixtureNewKind on, every seventh event is a new kind of error.
func fixtureMessage(t time.Time, i int, n int64) (msg, template string) {
	switch {
	case !t.Before(fixtureNewKind) && i%7 == 3:
		return fmt.Sprintf("disk %d full on volume %d", n%9, n), "disk <*> full on volume <*>"
	case i%3 == 0:
		return fmt.Sprintf("connection from 10.2.%d.%d closed", n%7, n%200), "connection from <*> closed"
	case i%3 == 1:
		return fmt.Sprintf("cache miss for key %d", n), "cache miss for key <*>"
	}
	return fmt.Sprintf("request %d finished with code %d", n*31, n%300), "request <*> finished with code <*>"
}

// minePanes fills the patterns states of panes as speed and batch do: one
// miner per partition over its events in time order (key gives an event's
// pane state).
func minePanes(evs []event.Event, pane func(ev *event.Event) *views.Pane) {
	idx := make([]int, len(evs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ea, eb := &evs[idx[a]], &evs[idx[b]]
		if ea.Partition != eb.Partition {
			return ea.Partition < eb.Partition
		}
		return ea.Time.Before(eb.Time)
	})
	trackers := map[int32]*patterns.Tracker{}
	var buf []byte
	for off, i := range idx {
		ev := &evs[i]
		ev.Offset = int64(off)
		tr := trackers[ev.Partition]
		if tr == nil {
			tr = patterns.NewTracker(views.PatternMinerOptions)
			trackers[ev.Partition] = tr
		}
		buf = views.PatternMessage(ev, buf)
		id, tmpl, abs := tr.Add(buf)
		p := pane(ev)
		for _, a := range abs {
			p.Patterns.Absorb(a)
		}
		p.Patterns.Add(id, tmpl, ev, buf)
	}
}

// truth is what a range's answers must be, computed from the events alone.
type truth struct {
	pv    int64
	terms map[string]int64
	uv    map[string]bool
	ips   map[string]bool
	// levels is instance -> level -> count, by the rule of ARCHITECTURE.md
	// written out here: instance, else host, else "-"; level, else "-".
	levels map[string]map[string]int64
}

func (tr truth) addLevel(inst, level string, n int64) {
	if tr.levels[inst] == nil {
		tr.levels[inst] = map[string]int64{}
	}
	tr.levels[inst][level] += n
}

// countedAs is the instance and level an event is counted under, as the
// levels and patterns views are documented to count it: the instance, else
// the host, else "-"; the level, else "-".
func countedAs(ev *event.Event) (instance, level string) {
	instance, level = ev.Instance, ev.Level
	if instance == "" {
		instance = ev.Host
	}
	if instance == "" {
		instance = "-"
	}
	if level == "" {
		level = "-"
	}
	return instance, level
}

func truthOf(evs []event.Event, from, to time.Time) truth {
	tr := truth{terms: map[string]int64{}, uv: map[string]bool{}, ips: map[string]bool{}, levels: map[string]map[string]int64{}}
	for _, ev := range evs {
		if ev.Time.Before(from) || !ev.Time.Before(to) {
			continue
		}
		tr.pv++
		inst, level := countedAs(&ev)
		tr.addLevel(inst, level, 1)
		if ev.HotTerm != "" {
			tr.terms[ev.HotTerm]++
		}
		if id := ev.UVID(); id != "" {
			tr.uv[id] = true
		}
		if ev.IP != "" {
			tr.ips[ev.IP] = true
		}
	}
	return tr
}

func (tr truth) add(o truth) truth {
	out := truth{pv: tr.pv + o.pv, terms: map[string]int64{}, uv: map[string]bool{}, ips: map[string]bool{}, levels: map[string]map[string]int64{}}
	for _, x := range []truth{tr, o} {
		for inst, per := range x.levels {
			for level, n := range per {
				out.addLevel(inst, level, n)
			}
		}
		for t, c := range x.terms {
			out.terms[t] += c
		}
		for u := range x.uv {
			out.uv[u] = true
		}
		for ip := range x.ips {
			out.ips[ip] = true
		}
	}
	return out
}

// top is the truth's top k terms, ordered as the API orders them.
func (tr truth) top(k int) []views.TermCount {
	var out []views.TermCount
	for _, t := range testkit.Top(tr.terms, k) {
		out = append(out, views.TermCount{Term: t.Term, Count: t.Count})
	}
	return out
}

// writeSpeed writes the events as speed does: one pane state per (pane,
// partition) with a bounded hot summary, one document per view, replaced by
// _id.
func writeSpeed(tb testing.TB, db *mongo.Database, evs []event.Event, hotCap int, updated time.Time) {
	tb.Helper()
	for view, ds := range speedDocs(tb, evs, hotCap, updated) {
		replaceDocs(tb, db.Collection(collections.SpeedCollection(view)), ds)
	}
}

// speedDocs builds speed's documents of the events, by view.
func speedDocs(tb testing.TB, evs []event.Event, hotCap int, updated time.Time) map[string][]collections.Doc {
	return speedDocsPane(tb, evs, hotCap, updated, time.Minute)
}

// speedDocsPane is speedDocs with panes of width w.
func speedDocsPane(tb testing.TB, evs []event.Event, hotCap int, updated time.Time, w time.Duration) map[string][]collections.Doc {
	type key struct {
		pane time.Time
		part int32
	}
	panes := map[key]*views.Pane{}
	for i := range evs {
		ev := &evs[i]
		k := key{ev.Time.Truncate(w), ev.Partition}
		if panes[k] == nil {
			panes[k] = views.NewPane(hotCap)
		}
		panes[k].Add(ev)
	}
	minePanes(evs, func(ev *event.Event) *views.Pane { return panes[key{ev.Time.Truncate(w), ev.Partition}] })
	docs := map[string][]collections.Doc{}
	for k, p := range panes {
		p.Hot.Compact()
		for _, view := range views.Names {
			docs[view] = append(docs[view], makeDocPane(tb, p, view, k.pane, k.part, updated, w))
		}
	}
	return docs
}

// writeBatch writes the events as batch recompute does: one exact pane
// state per pane, with the exact distinct counts, partition -1.
func writeBatch(tb testing.TB, db *mongo.Database, evs []event.Event, updated time.Time) {
	tb.Helper()
	writeBatchPane(tb, db, evs, updated, time.Minute)
}

// writeBatchPane is writeBatch with panes of width w.
func writeBatchPane(tb testing.TB, db *mongo.Database, evs []event.Event, updated time.Time, w time.Duration) {
	tb.Helper()
	panes := map[time.Time]*views.Pane{}
	for i := range evs {
		ev := &evs[i]
		k := ev.Time.Truncate(w)
		if panes[k] == nil {
			panes[k] = views.NewPane(0)
		}
		panes[k].Add(ev)
	}
	minePanes(evs, func(ev *event.Event) *views.Pane { return panes[ev.Time.Truncate(w)] })
	docs := map[string][]collections.Doc{}
	for k, p := range panes {
		tr := truthOf(evs, k, k.Add(w))
		p.Traffic.ExactUV, p.Traffic.ExactIPs, p.Traffic.HasExact = int64(len(tr.uv)), int64(len(tr.ips)), true
		for _, view := range views.Names {
			docs[view] = append(docs[view], makeDocPane(tb, p, view, k, collections.BatchPartition, updated, w))
		}
	}
	for view, ds := range docs {
		replaceDocs(tb, db.Collection(collections.BatchCollection(view)), ds)
	}
}

func makeDoc(tb testing.TB, p *views.Pane, view string, pane time.Time, part int32, updated time.Time) collections.Doc {
	return makeDocPane(tb, p, view, pane, part, updated, time.Minute)
}

func makeDocPane(tb testing.TB, p *views.Pane, view string, pane time.Time, part int32, updated time.Time, w time.Duration) collections.Doc {
	state, err := p.Encode(view)
	if err != nil {
		tb.Fatal(err)
	}
	return collections.Doc{
		ID: collections.DocID(view, pane, part), View: view, Pane: pane, PaneEnd: pane.Add(w),
		Partition: part, Offset: -1, Updated: updated, State: state, Summary: p.Summary(view),
	}
}

func replaceDocs(tb testing.TB, coll *mongo.Collection, docs []collections.Doc) {
	tb.Helper()
	for len(docs) > 0 {
		n := min(len(docs), 500)
		var models []mongo.WriteModel
		for _, d := range docs[:n] {
			models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.M{"_id": d.ID}).SetReplacement(d).SetUpsert(true))
		}
		if _, err := coll.BulkWrite(context.Background(), models, options.BulkWrite().SetOrdered(false)); err != nil {
			tb.Fatalf("write %s: %v", coll.Name(), err)
		}
		docs = docs[n:]
	}
}

// writeBatchLayer writes what batch leaves after recomputing evs: their
// views and the topic's horizon at 12:00 (horizon), updated at updated.
func writeBatchLayer(tb testing.TB, db *mongo.Database, evs []event.Event, updated time.Time) {
	tb.Helper()
	writeBatch(tb, db, evs, updated)
	writeHorizon(tb, db, topic, horizon, updated)
}

// writeHorizon writes batch's horizon document for topic.
func writeHorizon(tb testing.TB, db *mongo.Database, topic string, horizon, updated time.Time) {
	tb.Helper()
	doc := bson.M{"_id": collections.HorizonDocID(topic), "topic": topic, "horizon": horizon, "hours": bson.A{}, "updated": updated}
	if _, err := db.Collection(collections.MetaCollection).ReplaceOne(context.Background(), bson.M{"_id": doc["_id"]}, doc, options.Replace().SetUpsert(true)); err != nil {
		tb.Fatal(err)
	}
}

// writeBatchTiers writes the hour and day tiers batch writes beside its
// panes (writeBatchPane): every view's merge (views.Block) of each hour's
// panes as stored, and of each day's hours.
func writeBatchTiers(tb testing.TB, db *mongo.Database, updated time.Time) {
	tb.Helper()
	ctx := context.Background()
	panes := map[time.Time]*views.Pane{}
	for _, view := range views.Names {
		cur, err := db.Collection(collections.BatchCollection(view)).Find(ctx, bson.M{})
		if err != nil {
			tb.Fatal(err)
		}
		var ds []collections.Doc
		if err := cur.All(ctx, &ds); err != nil {
			tb.Fatal(err)
		}
		for _, d := range ds {
			k := d.Pane.UTC()
			if panes[k] == nil {
				panes[k] = &views.Pane{}
			}
			if err := panes[k].Decode(view, d.State); err != nil {
				tb.Fatal(err)
			}
		}
	}
	var starts []time.Time
	for k := range panes {
		starts = append(starts, k)
	}
	slices.SortFunc(starts, time.Time.Compare)
	hours := map[time.Time][]*views.Pane{}
	for _, k := range starts {
		h := k.Truncate(time.Hour)
		hours[h] = append(hours[h], panes[k])
	}
	days := map[time.Time][]*views.Pane{}
	var docs []collections.Doc
	tier := func(p *views.Pane, start time.Time, width time.Duration) {
		for _, view := range views.Names {
			state, err := p.Encode(view)
			if err != nil {
				tb.Fatal(err)
			}
			docs = append(docs, collections.Doc{ID: collections.TierID(view, start, width), View: view, Pane: start,
				PaneEnd: start.Add(width), Partition: collections.BatchPartition, Offset: -1, Updated: updated, State: state})
		}
	}
	var order []time.Time
	for h := range hours {
		order = append(order, h)
	}
	slices.SortFunc(order, time.Time.Compare)
	for _, h := range order {
		b := views.Block(h, hours[h], true)
		tier(b, h, time.Hour)
		d := h.Truncate(24 * time.Hour)
		days[d] = append(days[d], b)
	}
	for d, hs := range days {
		tier(views.Block(d, hs, true), d, 24*time.Hour)
	}
	for _, view := range views.Names {
		var mine []collections.Doc
		for _, d := range docs {
			if d.View == view {
				mine = append(mine, d)
			}
		}
		replaceDocs(tb, db.Collection(collections.TierCollection(view)), mine)
	}
}
