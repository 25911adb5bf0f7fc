package serving

import (
	"context"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
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

	writeBatch(t, db, gen(spec(t10, horizon, 20, 1)), t0)
	writeHorizon(t, db, topic, horizon, t0)
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
