package speed

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

const (
	testPartitions = 3
	testPerPart    = 1500
	testHotCap     = 20
)

// TestSpeedViews runs the layer over a generated stream and checks every
// document and checkpoint against counts computed from the input.
func TestSpeedViews(t *testing.T) {
	st := startStack(t, testPartitions)
	lines := generate(1, testPartitions, testPerPart, 800*time.Millisecond)
	st.produce(t, lines, 1<<20)
	reg := prometheus.NewRegistry()
	s, err := New(st.db("views"), st.kafka.Addrs(), Group("views"), HotCapacity(testHotCap),
		FlushInterval(50*time.Millisecond), settings.Logger(quietLogger()), Registerer(reg))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	runToEnd(t, s, lastOffsets(lines))
	t.Logf("consumed %d records in %s", testPartitions*testPerPart, time.Since(start))

	wantPanes, wantParts := expect(lines, views.DefaultPane, settings.DefaultLateness)
	stored := readPanes(t, st.db("views"))
	checkPanes(t, stored, wantPanes, testHotCap)
	pruned := 0
	for _, sp := range stored {
		if sp.pane.Hot.Floor() > 0 {
			pruned++
		}
	}
	if pruned == 0 {
		t.Errorf("no pane's hot summary was pruned: the error bound is not exercised")
	}
	checkCheckpoints(t, readCheckpoints(t, st.db("views")), wantParts)
	checkWrittenLists(t, st.db("views"))

	var events, perr, late int64
	for _, p := range wantParts {
		events, perr, late = events+p.events, perr+p.parseErrors, late+p.lateDropped
	}
	t.Logf("%d events, %d parse errors, %d late, %d panes", events, perr, late, len(wantPanes))
	if perr == 0 || late == 0 {
		t.Fatalf("generator made %d parse errors and %d late events; want some of each", perr, late)
	}
	stats := s.Stats()
	if stats.Events != events || stats.ParseErrors != perr || stats.LateDropped != late {
		t.Errorf("Stats = %d events, %d parse errors, %d late; want %d, %d, %d",
			stats.Events, stats.ParseErrors, stats.LateDropped, events, perr, late)
	}
	metrics := gather(t, reg)
	for name, want := range map[string]int64{
		"loglambda_speed_events_total":       events,
		"loglambda_speed_parse_errors_total": perr,
		"loglambda_speed_late_dropped_total": late,
	} {
		if got := metrics[name]; got != float64(want) {
			t.Errorf("metric %s = %v, want %d", name, got, want)
		}
	}
	if metrics["loglambda_speed_flushes_total"] < 1 || metrics["loglambda_speed_flush_duration_seconds"] < 1 {
		t.Errorf("flush metrics not updated: %v", metrics)
	}
}

// checkPanes compares stored documents with the expected panes: PV,
// status classes and bytes exactly, hot counts within the summary's bound,
// UV and IPs within 2 % of the exact distinct counts, offsets exactly.
func checkPanes(t *testing.T, got map[string]*storedPane, want map[string]*expPane, hotCap int) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	total := views.NewPane(0)
	allUV, allIPs := map[string]bool{}, map[string]bool{}
	for _, k := range keys {
		w, g := want[k], got[k]
		if g == nil {
			t.Errorf("pane %s: no document (want pv %d)", k, w.pv)
			continue
		}
		total.Merge(g.pane)
		for u := range w.uvs {
			allUV[strings.SplitN(k, "|", 2)[1]+"/"+u] = true
		}
		for ip := range w.ips {
			allIPs[ip] = true
		}
		tr := g.pane.Traffic
		if tr.PV != w.pv || tr.Status != w.status || tr.Bytes != w.bytes {
			t.Errorf("pane %s: pv %d status %v bytes %d, want %d %v %d", k, tr.PV, tr.Status, tr.Bytes, w.pv, w.status, w.bytes)
		}
		if c := g.pane.Clusters; c.Total() != w.pv || c.Len() > views.DefaultMicroClusters {
			t.Errorf("pane %s: clusters hold %d events in %d micro-clusters, want pv %d in at most %d", k, c.Total(), c.Len(), w.pv, views.DefaultMicroClusters)
		}
		levels := map[string]int64{}
		g.pane.Levels.Each(func(lk views.LevelKey, n int64) { levels[lk.Instance+"/"+lk.Level] = n })
		if !maps.Equal(levels, w.levels) {
			t.Errorf("pane %s: levels %v, want %v", k, levels, w.levels)
		}
		// Every event counts under exactly one pattern, with its level key.
		plevels := map[string]int64{}
		g.pane.Patterns.Each(func(e *views.PatternStat) {
			for lk, n := range e.Keys {
				plevels[lk.Instance+"/"+lk.Level] += n.Count
			}
		})
		if g.pane.Patterns.Total() != w.pv || !maps.Equal(plevels, w.levels) {
			t.Errorf("pane %s: patterns total %d levels %v, want %d %v", k, g.pane.Patterns.Total(), plevels, w.pv, w.levels)
		}
		within(t, k+" uv", tr.UVCount(), int64(len(w.uvs)))
		within(t, k+" ips", tr.IPCount(), int64(len(w.ips)))
		for _, view := range views.Names {
			if g.offsets[view] != w.offset {
				t.Errorf("pane %s %s: offset %d, want %d", k, view, g.offsets[view], w.offset)
			}
		}
		h := g.pane.Hot
		if h.Capacity() != hotCap {
			t.Errorf("pane %s: hot capacity %d, want %d", k, h.Capacity(), hotCap)
		}
		terms := map[string]bool{}
		for term := range w.terms {
			terms[term] = true
		}
		for _, tc := range h.Top(0) {
			terms[tc.Term] = true
		}
		for term := range terms {
			n := w.terms[term]
			c, e := h.Count(term)
			if n > c || c-e > n {
				t.Errorf("pane %s term %q: true count %d outside [%d, %d] (floor %d)", k, term, n, c-e, c, h.Floor())
			}
		}
	}
	for k := range got {
		if want[k] == nil {
			t.Errorf("pane %s: unexpected document", k)
		}
	}
	// The merge over panes and partitions is what serving shows; the UV
	// union differs from the per-pane sums, so check it against the exact
	// union (users are distinct per partition here only by chance).
	exactUV := map[string]bool{}
	for u := range allUV {
		exactUV[strings.SplitN(u, "/", 2)[1]] = true
	}
	within(t, "all panes uv", total.Traffic.UVCount(), int64(len(exactUV)))
	within(t, "all panes ips", total.Traffic.IPCount(), int64(len(allIPs)))
}

// within checks an estimate against an exact count: 2 %, and at least 1
// for the smallest counts.
func within(t *testing.T, what string, got, want int64) {
	t.Helper()
	tol := math.Max(1, 0.02*float64(want))
	if math.Abs(float64(got-want)) > tol {
		t.Errorf("%s: estimate %d, exact %d (tolerance %.1f)", what, got, want, tol)
	}
}

func checkCheckpoints(t *testing.T, got map[int32]collections.Checkpoint, want map[int32]*expPartition) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("partition %d: no checkpoint", p)
			continue
		}
		if g.ID != collections.CheckpointID(testTopic, p) || g.Topic != testTopic {
			t.Errorf("partition %d: checkpoint id %q topic %q", p, g.ID, g.Topic)
		}
		if g.Offset != w.lastOffset || g.HighWatermark != w.lastOffset+1 || g.Events != w.events ||
			g.ParseErrors != w.parseErrors || g.LateDropped != w.lateDropped {
			t.Errorf("partition %d: checkpoint offset %d hwm %d events %d parse errors %d late %d; want %d %d %d %d %d",
				p, g.Offset, g.HighWatermark, g.Events, g.ParseErrors, g.LateDropped,
				w.lastOffset, w.lastOffset+1, w.events, w.parseErrors, w.lateDropped)
		}
		if !g.Watermark.Equal(w.watermark.Truncate(time.Millisecond)) || fromUnixNano(g.WatermarkNS) != w.watermark {
			t.Errorf("partition %d: watermark %s (%d ns), want %s", p, g.Watermark, g.WatermarkNS, w.watermark)
		}
	}
}

// gather returns each metric family's value: counters' value, histograms'
// sample count.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				out[f.GetName()] += m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[f.GetName()] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// TestNewErrors checks that bad settings are refused with errors naming
// the setting.
func TestNewErrors(t *testing.T) {
	db := &mongo.Database{}
	for _, tc := range []struct {
		name string
		opts []Opt
		want string
	}{
		{"pane not dividing an hour", []Opt{settings.Pane(7 * time.Minute)}, "divide an hour"},
		{"negative lateness", []Opt{settings.Lateness(-time.Second)}, "lateness -1s"},
		{"zero flush interval", []Opt{FlushInterval(0)}, "flush interval 0s"},
		{"negative hot capacity", []Opt{HotCapacity(-1)}, "hot capacity -1"},
		{"bad hot term", []Opt{settings.HotTerm("column:x")}, "hot-term"},
		{"unknown format", []Opt{settings.Format("xml")}, "unknown format"},
		{"empty topic", []Opt{settings.Topic("")}, "topic is empty"},
		{"empty group", []Opt{Group("")}, "group is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(db, []string{"127.0.0.1:9092"}, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(nil, []string{"x"}); err == nil {
		t.Error("New without a database: no error")
	}
	if _, err := New(db, nil); err == nil {
		t.Error("New without brokers: no error")
	}
}

// checkWrittenLists checks that each checkpoint lists every pane of its
// partition written since its WrittenSince, at the time of the pane's last
// write: what serving reads instead of scanning the view collections.
func checkWrittenLists(t *testing.T, db *mongo.Database) {
	t.Helper()
	cks := readCheckpoints(t, db)
	for _, view := range views.Names {
		for _, d := range testkit.All[collections.Doc](t, db.Collection(collections.SpeedCollection(view))) {
			ck := cks[d.Partition]
			if ck.WrittenSince.IsZero() {
				t.Fatalf("partition %d: checkpoint without WrittenSince", d.Partition)
			}
			if d.Updated.Before(ck.WrittenSince) || d.Updated.Before(ck.Updated.Add(-collections.WrittenWindow)) {
				continue
			}
			i := slices.IndexFunc(ck.Written, func(w collections.PaneWrite) bool { return w.Pane.Equal(d.Pane) })
			if i < 0 || !ck.Written[i].At.Equal(d.Updated) {
				t.Errorf("%s: pane %s written at %s: checkpoint of partition %d lists %v", view, d.Pane, d.Updated, d.Partition, ck.Written)
			}
		}
	}
}
