package speed

import (
	"encoding/json"
	"hash/fnv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// TestCatchUpDemoBacklog lets speed catch up from a backlog of three hours
// of the demo generator (100 events/s: 1.08 M events on 4 partitions), as
// `up --demo` does on its first start, and checks every pane's PV against
// counts made here from the generated lines: per partition, in order, an
// event is late when its pane ends at or before the newest event time so
// far minus the lateness (ARCHITECTURE.md's rule, written out again).
func TestCatchUpDemoBacklog(t *testing.T) {
	skipVolume(t)
	const parts = 4
	st := startStack(t, parts)
	start := time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC)
	g, err := gen.New(gen.Seed(3), gen.Rate(100), gen.Start(start), gen.Count(3*3600*100))
	if err != nil {
		t.Fatal(err)
	}
	cl := testkit.KafkaClient(t, st.kafka.Addrs(), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(10*time.Millisecond))
	ctx := testkit.Context(t, 5*time.Minute)
	type partState struct{ newest time.Time }
	ps := make([]partState, parts)
	wantPV := map[string]int64{} // pane key -> PV over partitions
	var late, n int64
	last := map[int32]int64{}
	errs := make(chan error, 1)
	for !g.Done() {
		r := g.Next()
		h := fnv.New32a()
		h.Write(r.Key)
		p := int32(h.Sum32() % parts)
		var line struct {
			TS time.Time `json:"ts"`
		}
		if err := json.Unmarshal(r.Line, &line); err != nil {
			t.Fatalf("generated line %s: %v", r.Line, err)
		}
		pane := line.TS.UTC().Truncate(views.DefaultPane)
		if !pane.Add(views.DefaultPane).After(ps[p].newest.Add(-settings.DefaultLateness)) {
			late++
		} else {
			wantPV[collections.PaneKey(pane)]++
		}
		if line.TS.After(ps[p].newest) {
			ps[p].newest = line.TS
		}
		last[p]++
		n++
		cl.Produce(ctx, &kgo.Record{Partition: p, Value: r.Line, Timestamp: r.Time}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	want := map[int32]int64{}
	for p, c := range last {
		want[p] = c - 1
	}
	// The backlog is 180 panes a partition: with a bound of 30 held panes,
	// speed must flush (and move each partition's checkpoint) as it reads,
	// holding a bounded number of panes, not read the backlog whole first.
	const bound = 30
	var (
		s                  *Speed
		maxHeld, ckWritten int
	)
	held := func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range s.parts {
			maxHeld = max(maxHeld, len(p.panes))
		}
		ckWritten++
		return nil
	}
	s, err = New(st.db("catchup"), st.kafka.Addrs(), Group("catchup"), settings.Logger(quietLogger()),
		withMaxHeld(bound), withAfterDocs(held))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	runToEndWithin(t, s, want, 4*time.Minute)
	t.Logf("caught up with %d events (%d late) in %s; at most %d panes held by a partition (bound %d), %d partition flushes",
		n, late, time.Since(began).Round(time.Millisecond), maxHeld, bound, ckWritten)
	if maxHeld > 2*bound {
		t.Errorf("a partition held %d panes, more than twice the bound of %d: speed read ahead of its flushes", maxHeld, bound)
	}
	// A flush may carry up to twice the bound (speed reads on while the
	// previous flush writes), so 180 panes take at least 180/(2*bound)
	// flushes a partition; fewer means the backlog was read whole first.
	if minFlushes := parts * 3 * 60 / (2 * bound); ckWritten < minFlushes {
		t.Errorf("%d partition flushes for %d partitions of 180 panes each, want at least %d (bound %d): the checkpoints did not move as speed read", ckWritten, parts, minFlushes, bound)
	}

	got := map[string]int64{}
	for key, sp := range readPanes(t, st.db("catchup")) {
		pane := key[:len(collections.PaneKey(start))]
		got[pane] += sp.pane.Traffic.PV
	}
	if len(got) != len(wantPV) {
		t.Errorf("%d panes stored, want %d", len(got), len(wantPV))
	}
	for k, w := range wantPV {
		if got[k] != w {
			t.Errorf("pane %s: pv %d, want %d", k, got[k], w)
		}
	}
	var events, lateDropped int64
	for _, ck := range readCheckpoints(t, st.db("catchup")) {
		events += ck.Events
		lateDropped += ck.LateDropped
	}
	if events != n || lateDropped != late {
		t.Errorf("checkpoints: %d events, %d late; want %d, %d", events, lateDropped, n, late)
	}
	if bl := s.Backlog(); bl.PendingDocs != 0 || !bl.OldestPending.IsZero() {
		t.Errorf("backlog after catching up: %+v", s.Backlog())
	}
}
