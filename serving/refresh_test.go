package serving

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestIncrementalRefresh follows the cache through speed writes and batch
// runs: new documents appear, documents stamped at or a little before the
// newest `updated` already read are not missed, replaced documents replace
// their state, and a moving horizon hands panes from speed to batch.
func TestIncrementalRefresh(t *testing.T) {
	db := testDB(t)
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	spec := func(from, to time.Time, perPane int, seed uint64) genSpec {
		return genSpec{from: from, to: to, perPane: perPane, partitions: 4, terms: 40, prefix: "t", users: 200, ips: 200, seed: seed}
	}
	m := func(n int) time.Time { return horizon.Add(time.Duration(n) * time.Minute) }

	writeBatchLayer(t, db, gen(spec(t10, horizon, 20, 1)), t0)
	srv, base := startServer(t, db)

	type step struct {
		name  string
		write func()
		// speed are the speed event lists whose documents are current.
		speed [][]event.Event
		// batch, when set, is what 12:00-13:00 must come from instead.
		batch []event.Event
		// speedPanes and batchPanes are the cache sizes /v1/status shows.
		speedPanes, batchPanes int
	}
	sp1 := gen(spec(m(0), m(10), 40, 10))
	sp2 := gen(spec(m(10), m(20), 40, 11))
	sp3 := gen(spec(m(20), m(25), 40, 12))
	sp4 := gen(spec(m(25), m(30), 40, 13))
	sp1b := gen(spec(m(0), m(10), 50, 14))
	sp5 := gen(spec(m(30), m(40), 40, 15))
	b2 := gen(spec(horizon, t13, 30, 20))
	b3 := gen(spec(horizon, t13, 35, 21))
	steps := []step{
		{"first speed docs", func() { writeSpeed(t, db, sp1, speedCap, t0) },
			[][]event.Event{sp1}, nil, 10, 120},
		{"newer docs", func() { writeSpeed(t, db, sp2, speedCap, t0.Add(time.Second)) },
			[][]event.Event{sp1, sp2}, nil, 20, 120},
		{"docs stamped as the newest seen, and a little before", func() {
			writeSpeed(t, db, sp3, speedCap, t0.Add(time.Second))
			writeSpeed(t, db, sp4, speedCap, t0.Add(-2*time.Second))
		}, [][]event.Event{sp1, sp2, sp3, sp4}, nil, 30, 120},
		{"replaced docs", func() { writeSpeed(t, db, sp1b, speedCap, t0.Add(2*time.Second)) },
			[][]event.Event{sp1b, sp2, sp3, sp4}, nil, 30, 120},
		{"horizon moves: batch takes over", func() {
			writeBatch(t, db, b2, t0.Add(3*time.Second))
			writeHorizon(t, db, topic, t13, t0.Add(3*time.Second))
		}, nil, b2, 0, 180},
		{"batch reruns an hour, horizon unchanged", func() {
			writeBatch(t, db, b3, t0.Add(4*time.Second))
			writeHorizon(t, db, topic, t13, t0.Add(4*time.Second))
		}, nil, b3, 0, 180},
		{"late speed docs before the horizon are ignored", func() { writeSpeed(t, db, sp5, speedCap, t0.Add(5*time.Second)) },
			nil, b3, 0, 180},
		{"horizon moves back: speed is read again", func() { writeHorizon(t, db, topic, horizon, t0.Add(6*time.Second)) },
			[][]event.Event{sp1b, sp2, sp3, sp4, sp5}, nil, 40, 120},
	}
	for _, st := range steps {
		st.write()
		if err := srv.Refresh(context.Background()); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		want := truth{terms: map[string]int64{}, uv: map[string]bool{}, ips: map[string]bool{}}
		for _, evs := range st.speed {
			want = want.add(truthOf(evs, horizon, t13))
		}
		if st.batch != nil {
			want = truthOf(st.batch, horizon, t13)
		}
		var tr trafficResp
		get(t, base, "/v1/traffic"+q(horizon, t13, "step", "1h"), &tr)
		if tr.Total.PV != want.pv || tr.Exact != (st.batch != nil) {
			t.Errorf("%s: pv %d exact %v, want pv %d exact %v", st.name, tr.Total.PV, tr.Exact, want.pv, st.batch != nil)
		}
		var hot hotResp
		get(t, base, "/v1/hot"+q(horizon, t13, "k", "1000"), &hot)
		if st.batch != nil {
			if top := want.top(1000); len(hot.Terms) != len(top) || hot.Terms[0].Count != top[0].Count {
				t.Errorf("%s: hot %+v, want %+v", st.name, hot.Terms, top)
			}
		} else {
			assertHotBounds(t, hot, want)
		}
		var status statusResp
		get(t, base, "/v1/status", &status)
		if status.SpeedPanes != st.speedPanes || status.BatchPanes != st.batchPanes {
			t.Errorf("%s: cache holds %d speed and %d batch panes, want %d and %d",
				st.name, status.SpeedPanes, status.BatchPanes, st.speedPanes, st.batchPanes)
		}
	}
}

// TestRefreshFromCheckpointLists follows the cache when speed's
// checkpoints list the panes written (collections.Checkpoint.Written):
// after the first scan a refresh reads just the listed documents by _id,
// and scans again when a list does not reach back to the last read (a
// restarted speed layer), however long the lists are.
func TestRefreshFromCheckpointLists(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	spec := func(from, to time.Time, perPane int, seed uint64) genSpec {
		return genSpec{from: from, to: to, perPane: perPane, partitions: 2, terms: 40, prefix: "t", users: 200, ips: 200, seed: seed}
	}
	m := func(n int) time.Time { return horizon.Add(time.Duration(n) * time.Minute) }
	writeHorizon(t, db, topic, horizon, t0)
	srv, base := startServer(t, db)

	// The checkpoint of each partition as speed writes it: every pane
	// written since `since`, at its last write.
	written := map[int32][]collections.PaneWrite{}
	note := func(evs []event.Event, at time.Time) {
		for _, ev := range evs {
			pane := ev.Time.Truncate(time.Minute)
			ws := written[ev.Partition]
			if n := len(ws); n == 0 || !ws[n-1].Pane.Equal(pane) || !ws[n-1].At.Equal(at) {
				written[ev.Partition] = append(ws, collections.PaneWrite{Pane: pane, At: at})
			}
		}
	}
	var wm, maxEv time.Time // zero: checkpoints without watermarks
	checkpoints := func(updated, since time.Time) {
		for p := int32(0); p < 2; p++ {
			cp := collections.Checkpoint{ID: collections.CheckpointID(topic, p), Topic: topic, Partition: p,
				Updated: updated, Written: written[p], WrittenSince: since, Watermark: wm, MaxEventTime: maxEv}
			if _, err := db.Collection(collections.CheckpointCollection).ReplaceOne(ctx, bson.D{{Key: "_id", Value: cp.ID}}, cp,
				options.Replace().SetUpsert(true)); err != nil {
				t.Fatal(err)
			}
		}
	}
	pv := func(name string, want ...[]event.Event) {
		t.Helper()
		if err := srv.Refresh(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var n int64
		for _, evs := range want {
			n += truthOf(evs, horizon, t13).pv
		}
		var tr trafficResp
		get(t, base, "/v1/traffic"+q(horizon, t13, "step", "1h"), &tr)
		if tr.Total.PV != n {
			t.Errorf("%s: pv %d, want %d", name, tr.Total.PV, n)
		}
	}
	sp1, sp2, sp3, sp4 := gen(spec(m(0), m(5), 30, 1)), gen(spec(m(5), m(8), 30, 2)), gen(spec(m(8), m(9), 30, 3)), gen(spec(m(9), m(10), 30, 4))
	sp1b := gen(spec(m(0), m(5), 45, 5))

	writeSpeed(t, db, sp1, speedCap, t0)
	note(sp1, t0)
	checkpoints(t0, t0)
	pv("first read: the scan", sp1)

	at := t0.Add(time.Second)
	writeSpeed(t, db, sp2, speedCap, at)
	note(sp2, at)
	checkpoints(at, t0)
	pv("listed panes read by _id", sp1, sp2)

	// Documents nobody listed, under checkpoints that did not move: a
	// refresh from the lists does not see them (speed always lists what it
	// writes; this shows the lists are what is read).
	at = t0.Add(2 * time.Second)
	writeSpeed(t, db, sp3, speedCap, at)
	pv("unlisted documents are not read", sp1, sp2)
	note(sp3, at)
	checkpoints(at, t0)
	pv("once listed, they are", sp1, sp2, sp3)

	// The lists reach back the refresh margin before the checkpoint last
	// read: writes listed again, already read as written, are not read
	// again (a refresh then reads the checkpoints and batch_meta alone,
	// as one with nothing listed does).
	pv("nothing new", sp1, sp2, sp3)
	idle := srv.costs.cost().LastDocs
	checkpoints(at.Add(500*time.Millisecond), t0)
	pv("the same writes listed again", sp1, sp2, sp3)
	if got := srv.costs.cost().LastDocs; got != idle {
		t.Errorf("a refresh over writes already read read %d documents, want %d (checkpoints and batch_meta)", got, idle)
	}

	at = t0.Add(3 * time.Second)
	writeSpeed(t, db, sp1b, speedCap, at)
	note(sp1b, at)
	checkpoints(at, t0)
	pv("replaced documents listed again", sp1b, sp2, sp3)

	// A restarted speed layer: its lists begin after the last read, so
	// the refresh scans, and finds what the old process wrote unlisted.
	at = t0.Add(4 * time.Second)
	writeSpeed(t, db, sp4, speedCap, at)
	written = map[int32][]collections.PaneWrite{}
	wm, maxEv = m(8), m(10)
	checkpoints(at.Add(time.Second), at.Add(time.Second))
	pv("a list beginning after the last read: the scan", sp1b, sp2, sp3, sp4)
	scans := srv.r.scans

	// Restarted again, with watermarks: the panes written since the last
	// read are those open since its watermark (12:08) up to the newest
	// event time (12:13), read by _id, not by a scan.
	at = t0.Add(6 * time.Second)
	sp5 := gen(spec(m(9), m(13), 30, 6))
	writeSpeed(t, db, sp5, speedCap, at)
	wm, maxEv = m(11), m(13)
	checkpoints(at.Add(time.Second), at.Add(time.Second))
	var kept []event.Event
	for _, ev := range sp4 {
		if ev.Time.Before(m(9)) {
			kept = append(kept, ev)
		}
	}
	pv("a list beginning after the last read, with watermarks: the open panes by _id", sp1b, sp2, sp3, kept, sp5)
	if srv.r.scans != scans {
		t.Errorf("%d scans after the open panes were read, want %d", srv.r.scans, scans)
	}

	// A catch-up: 2 x 45 panes listed in one tick are read by _id too,
	// not by a scan of every speed document, at most tickWrites panes a
	// refresh (lowered here to 16), oldest first, the others left
	// pending: the first refresh reads 16 panes' documents, the next
	// ones the rest (with nothing newly listed), until the answer has
	// them all.
	srv.r.tickWrites, srv.r.tickTime = 16, 0
	at = t0.Add(8 * time.Second)
	sp6 := gen(spec(m(13), m(58), 10, 7)) // within t13
	writeSpeed(t, db, sp6, speedCap, at)
	written = map[int32][]collections.PaneWrite{}
	note(sp6, at)
	checkpoints(at, at.Add(-time.Second))
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	c := srv.costs.cost()
	if viewDocs := int64(16 * len(views.Names)); c.LastDocs < viewDocs || c.LastDocs > viewDocs+idle || c.PendingWrites != 2*45-16 {
		t.Errorf("first refresh of a long list: %d documents read, %d pane writes pending; want %d view documents (+%d) and %d pending",
			c.LastDocs, c.PendingWrites, viewDocs, idle, 2*45-16)
	}
	var firstPanes []int64
	for k := range srv.r.speedRaw {
		if k >= m(13).Unix() {
			firstPanes = append(firstPanes, k)
		}
	}
	if slices.Sort(firstPanes); len(firstPanes) != 8 || firstPanes[7] != m(20).Unix() {
		t.Errorf("panes read first %v, want the 8 oldest (2 partitions each) from %s", firstPanes, m(13))
	}
	for i := 0; srv.costs.cost().PendingWrites > 0; i++ {
		if i > 5 {
			t.Fatalf("%d pane writes still pending after %d refreshes", srv.costs.cost().PendingWrites, i)
		}
		if err := srv.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pv("a long list by _id, over several refreshes", sp1b, sp2, sp3, kept, sp5, sp6)
	if srv.r.scans != scans {
		t.Errorf("%d scans after a long list was read, want %d", srv.r.scans, scans)
	}

	// With time for more than one round (tickTime: an hour here, so that
	// how fast the machine is does not matter), a refresh reads round
	// after round until nothing listed is left: 2 x 40 panes in rounds
	// of 16, every one in the first refresh.
	srv.r.tickTime = time.Hour
	at = t0.Add(9 * time.Second)
	sp7 := gen(spec(m(60), m(100), 10, 8))
	writeSpeed(t, db, sp7, speedCap, at)
	written = map[int32][]collections.PaneWrite{}
	note(sp7, at)
	checkpoints(at, at.Add(-time.Second))
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, evs := range [][]event.Event{sp1b, sp2, sp3, kept, sp5, sp6, sp7} {
		n += truthOf(evs, horizon, m(100)).pv
	}
	var tr trafficResp
	if get(t, base, "/v1/traffic"+q(horizon, m(100), "step", "1h"), &tr); tr.Total.PV != n || truthOf(sp7, horizon, m(100)).pv == 0 {
		t.Errorf("a long list read in rounds within one refresh: pv %d, want %d", tr.Total.PV, n)
	}
	if c := srv.costs.cost(); c.PendingWrites != 0 || c.LastDocs < int64(2*40*len(views.Names)) {
		t.Errorf("a refresh with time for every round: %d documents read, %d pane writes pending; want at least %d and none",
			c.LastDocs, c.PendingWrites, 2*40*len(views.Names))
	}
}

// TestFinalSpeedPanes follows speed panes that become final (their hour
// complete, every partition's watermark past them): serving keeps neither
// their decoded state nor their documents' encodings per partition, only
// the merged pane encoded, and a replay that writes one partition's
// document of such a pane again makes it read the other partitions'
// documents of the pane again, so that the answer is still every
// partition's merge.
func TestFinalSpeedPanes(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	m := func(n int) time.Time { return horizon.Add(time.Duration(n) * time.Minute) }
	end := m(120)
	writeHorizon(t, db, topic, horizon, t0)
	srv, base := startServer(t, db, Now(func() time.Time { return end }))
	written := map[int32][]collections.PaneWrite{}
	checkpoints := func(evs []event.Event, at, wm time.Time) {
		for _, ev := range evs {
			written[ev.Partition] = append(written[ev.Partition], collections.PaneWrite{Pane: ev.Time.Truncate(time.Minute), At: at})
		}
		for p := int32(0); p < 2; p++ {
			cp := collections.Checkpoint{ID: collections.CheckpointID(topic, p), Topic: topic, Partition: p,
				Updated: at, Written: written[p], WrittenSince: t0, Watermark: wm, MaxEventTime: m(70)}
			if _, err := db.Collection(collections.CheckpointCollection).ReplaceOne(ctx, bson.D{{Key: "_id", Value: cp.ID}}, cp,
				options.Replace().SetUpsert(true)); err != nil {
				t.Fatal(err)
			}
		}
	}
	pv := func(name string, want []event.Event) {
		t.Helper()
		if err := srv.Refresh(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var tr trafficResp
		for _, rg := range [][2]time.Time{{horizon, end}, {m(3), m(7)}} {
			get(t, base, "/v1/traffic"+q(rg[0], rg[1], "step", "1m"), &tr)
			if n := truthOf(want, rg[0], rg[1]).pv; tr.Total.PV != n {
				t.Errorf("%s: pv %d over %s..%s, want %d", name, tr.Total.PV, fmtTime(rg[0]), fmtTime(rg[1]), n)
			}
		}
	}
	spec := genSpec{from: m(0), to: m(70), perPane: 20, partitions: 2, terms: 40, prefix: "t", users: 200, ips: 200, seed: 1}
	evs := gen(spec)
	writeSpeed(t, db, evs, speedCap, t0)
	checkpoints(evs, t0, m(65))
	pv("first read", evs)
	// The scan of the first read, then checkpoints read: the next refresh
	// knows the watermarks and drops the final panes' documents.
	checkpoints(nil, t0.Add(time.Second), m(65))
	pv("watermarks read", evs)
	r := &srv.r
	if len(r.final) != 60 {
		t.Errorf("%d final panes, want the 60 of 12:00-13:00", len(r.final))
	}
	for k := range r.speedRaw {
		if k < m(60).Unix() {
			t.Errorf("pane %s of a complete hour under every watermark still held per partition", fmtTime(time.Unix(k, 0)))
		}
	}
	if n := decodedPanes(srv.snap.Load().speed); n != 10 {
		t.Errorf("%d speed panes held decoded, want the 10 of the hour still filling", n)
	}

	// A replay rewrites partition 0's document of 12:05 with other events.
	spec.from, spec.to, spec.perPane, spec.seed = m(5), m(6), 35, 2
	var replay, want []event.Event
	for _, ev := range gen(spec) {
		if ev.Partition == 0 {
			replay = append(replay, ev)
		}
	}
	for _, ev := range evs {
		if ev.Partition != 0 || ev.Time.Before(m(5)) || !ev.Time.Before(m(6)) {
			want = append(want, ev)
		}
	}
	want = append(want, replay...)
	at := t0.Add(2 * time.Second)
	writeSpeed(t, db, replay, speedCap, at)
	written = map[int32][]collections.PaneWrite{}
	checkpoints(replay, at, m(65))
	pv("a final pane written again by one partition", want)
	if !r.final[m(5).Unix()] || len(r.reread) != 0 {
		t.Errorf("12:05, merged again, final %v; %d panes left to read again", r.final[m(5).Unix()], len(r.reread))
	}
	pv("nothing new", want)
}
