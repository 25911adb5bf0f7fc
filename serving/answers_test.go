package serving

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// TestAnswerCache asks the same questions again: a repeated question over
// unchanged data is a cache hit with the same answer; a speed pane
// rewritten invalidates the answers whose range (or, for patterns, the
// period before it) holds it and no other; a batch run invalidates all.
// Every answer after a change is checked against the events.
func TestAnswerCache(t *testing.T) {
	db := testDB(t)
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	spec := func(from, to time.Time, seed uint64) genSpec {
		return genSpec{from: from, to: to, perPane: 20, partitions: 2, terms: 40, prefix: "t", users: 200, ips: 200, seed: seed}
	}
	batchEvs := gen(spec(t10, horizon, 1))
	speedEvs := gen(spec(horizon, t13, 2))
	writeBatchLayer(t, db, batchEvs, t0)
	writeSpeed(t, db, speedEvs, speedCap, t0)
	srv, base := startServer(t, db)
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	type question struct {
		name, path string
		before     bool // the range and the period before it lie before the horizon
		from, to   time.Time
	}
	qs := []question{
		{"traffic before", "/v1/traffic" + q(t10, horizon, "step", "15m"), true, t10, horizon},
		{"traffic after", "/v1/traffic" + q(horizon, t13, "step", "15m"), false, horizon, t13},
		{"levels before", "/v1/levels" + q(t10, t10.Add(time.Hour), "step", "1h"), true, t10, t10.Add(time.Hour)},
		{"hot after", "/v1/hot" + q(horizon, t13, "k", "5"), false, horizon, t13},
		{"clusters after", "/v1/clusters" + q(horizon, t13, "step", "1h"), false, horizon, t13},
		// The previous period of 11:00-12:00 is 10:00-11:00: before.
		{"patterns before", "/v1/patterns" + q(t10.Add(time.Hour), horizon), true, t10.Add(time.Hour), horizon},
		// The previous period of 12:00-12:30 is 11:30-12:00, before too,
		// but the range holds the rewritten pane.
		{"patterns after", "/v1/patterns" + q(horizon, horizon.Add(30*time.Minute)), false, horizon, horizon.Add(30 * time.Minute)},
	}
	ask := func(want string) {
		t.Helper()
		for _, qu := range qs {
			h0, m0 := srv.answers.hits.Load(), srv.answers.misses.Load()
			if code := get(t, base, qu.path, nil); code != 200 {
				t.Fatalf("%s: status %d", qu.name, code)
			}
			hit := srv.answers.hits.Load() > h0
			if srv.answers.misses.Load() == m0 && !hit {
				t.Fatalf("%s: neither a hit nor a miss", qu.name)
			}
			wantHit := want == "all" || (want == "before" && qu.before)
			if hit != wantHit {
				t.Errorf("%s (%s cached): hit %v, want %v", qu.name, want, hit, wantHit)
			}
		}
	}
	pv := func(from, to time.Time) int64 {
		var tr trafficResp
		get(t, base, "/v1/traffic"+q(from, to, "step", "15m"), &tr)
		return tr.Total.PV
	}
	ask("none") // first answers
	ask("all")  // repeated
	if got, want := pv(horizon, t13), truthOf(speedEvs, horizon, t13).pv; got != want {
		t.Fatalf("pv %d, want %d", got, want)
	}

	// Speed rewrites 12:10 with more events.
	m := horizon.Add(10 * time.Minute)
	late := gen(genSpec{from: m, to: m.Add(time.Minute), perPane: 50, partitions: 2, terms: 40, prefix: "t", users: 200, ips: 200, seed: 9})
	var kept []event.Event
	for _, ev := range speedEvs {
		if ev.Time.Before(m) || !ev.Time.Before(m.Add(time.Minute)) {
			kept = append(kept, ev)
		}
	}
	writeSpeed(t, db, late, speedCap, t0.Add(time.Second))
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ask("before") // only the answers over 12:10 are recomputed
	if got, want := pv(horizon, t13), truthOf(append(kept, late...), horizon, t13).pv; got != want {
		t.Errorf("pv after the rewrite %d, want %d", got, want)
	}
	ask("all")

	// A refresh that reads nothing new keeps every answer.
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ask("all")

	// Batch runs again (the horizon document changes): every answer goes.
	writeHorizon(t, db, topic, horizon, t0.Add(2*time.Second))
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ask("none")

	// Speed rewrites 12:40: the 15-minute series over 11:00-13:00 is
	// answered with the buckets of 11:00-12:00 (batch, counted for
	// "traffic before") from the bucket cache and those of 12:00-13:00
	// recounted (a speed change invalidates its whole hour, whose block
	// it changes), each bucket's PV the events'.
	m2 := horizon.Add(40 * time.Minute)
	late2 := gen(genSpec{from: m2, to: m2.Add(time.Minute), perPane: 70, partitions: 2, terms: 40, prefix: "t", users: 200, ips: 200, seed: 10})
	var kept2 []event.Event
	for _, ev := range append(kept, late...) {
		if ev.Time.Before(m2) || !ev.Time.Before(m2.Add(time.Minute)) {
			kept2 = append(kept2, ev)
		}
	}
	writeSpeed(t, db, late2, speedCap, t0.Add(3*time.Second))
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	bh, bm := srv.buckets.hits.Load(), srv.buckets.misses.Load()
	var tr trafficResp
	get(t, base, "/v1/traffic"+q(t10.Add(time.Hour), t13, "step", "15m"), &tr)
	if hits, misses := srv.buckets.hits.Load()-bh, srv.buckets.misses.Load()-bm; hits != 4 || misses != 4 {
		t.Errorf("buckets: %d from the cache and %d counted, want 4 (11:00-12:00) and 4 (12:00-13:00)", hits, misses)
	}
	evs := append(append(kept2, late2...), batchEvs...)
	for _, p := range tr.Series {
		at, err := time.Parse(time.RFC3339, p.T)
		if err != nil {
			t.Fatal(err)
		}
		if want := truthOf(evs, at, at.Add(15*time.Minute)).pv; p.PV != want {
			t.Errorf("bucket %s: pv %d, want %d", p.T, p.PV, want)
		}
	}
	if len(tr.Series) != 8 {
		t.Errorf("%d buckets, want 8", len(tr.Series))
	}
}

// TestAnswerFlights asks one question from many goroutines at once, as a
// dashboard's clients do after a refresh invalidated it: the answer is
// computed once and every caller gets that entry (a caller arriving after
// it was stored finds it in the cache, one arriving before waits for it).
// A failed computation is not shared: the callers waiting for it compute
// their own.
func TestAnswerFlights(t *testing.T) {
	s := &Server{metrics: newMetrics()}
	s.snap.Store(emptySnapshot())
	k := answerKey{view: "test", from: 0, to: 60}
	var computed atomic.Int64
	release := make(chan struct{})
	const callers = 8
	entries := make(chan *answerEntry, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, e, err := cachedAnswer(s, k, 0, 60, func(*snapshot) (int, error) {
				computed.Add(1)
				<-release
				return 42, nil
			})
			if err != nil || a != 42 {
				t.Errorf("answer %d, %v; want 42", a, err)
			}
			entries <- e
		}()
	}
	close(release)
	wg.Wait()
	close(entries)
	first := <-entries
	for e := range entries {
		if e != first {
			t.Errorf("callers got different entries")
		}
	}
	if n := computed.Load(); n != 1 {
		t.Errorf("computed %d times, want once", n)
	}
	// Errors: every caller computes (and fails) on its own.
	fail := errors.New("no answer")
	var failed atomic.Int64
	for range 3 {
		if _, e, err := cachedAnswer(s, answerKey{view: "fails"}, 0, 60, func(*snapshot) (int, error) {
			failed.Add(1)
			return 0, fail
		}); !errors.Is(err, fail) || e != nil {
			t.Errorf("failed answer: entry %v, err %v", e, err)
		}
	}
	if n := failed.Load(); n != 3 {
		t.Errorf("a failing question computed %d times in 3 calls, want 3 (errors are not cached)", n)
	}
}
