package serving

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/exact"
)

// writeExactSets writes the exact sets of evs per hour as batch does
// (schemas/exact), numbering the non-IPv4 ids in the test's own
// dictionary.
func writeExactSets(tb testing.TB, db *mongo.Database, evs []event.Event) {
	tb.Helper()
	dict := map[string]uint32{}
	add := func(s exact.Set, id string) {
		if v4, ok := exact.IPv4(id); ok {
			s.V4.Add(v4)
			return
		}
		n, ok := dict[id]
		if !ok {
			n = uint32(len(dict))
			dict[id] = n
		}
		s.Dict.Add(n)
	}
	type paneSets struct{ uv, ips exact.Set }
	hours := map[time.Time]map[int64]*paneSets{}
	for i := range evs {
		ev := &evs[i]
		h := ev.Time.Truncate(time.Hour)
		if hours[h] == nil {
			hours[h] = map[int64]*paneSets{}
		}
		p := ev.Time.Truncate(time.Minute).Unix()
		ps := hours[h][p]
		if ps == nil {
			ps = &paneSets{exact.NewSet(), exact.NewSet()}
			hours[h][p] = ps
		}
		if v := ev.Visitor(); v != "" {
			add(ps.uv, v)
		}
		if ev.IP != "" {
			add(ps.ips, ev.IP)
		}
	}
	for h, panes := range hours {
		eh := &exact.Hour{Hour: h, PaneSecs: 60, HourUV: exact.NewSet(), HourIPs: exact.NewSet()}
		for p := h.Unix(); p < h.Unix()+3600; p += 60 {
			if ps := panes[p]; ps != nil {
				eh.Panes = append(eh.Panes, p)
				eh.UV, eh.IPs = append(eh.UV, ps.uv), append(eh.IPs, ps.ips)
				eh.HourUV.Or(ps.uv)
				eh.HourIPs.Or(ps.ips)
			}
		}
		state, err := eh.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		doc := exact.Doc{ID: exact.DocID(h), Hour: h, Updated: time.Now(), Generation: 1, State: state}
		if _, err := db.Collection(exact.Collection).ReplaceOne(context.Background(), bson.M{"_id": doc.ID}, doc, options.Replace().SetUpsert(true)); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestExactTrafficFromSets checks exact traffic before the horizon from
// batch's exact sets: every bucket's and the total's UV and IPs equal
// distinct counts taken over the events, for ranges and steps not on
// hours; and that without sets (a lake recomputed before they existed)
// the sets answer nothing, so the lake is counted (here, without a lake,
// the sketches stand and the answer is not claimed from sets).
func TestExactTrafficFromSets(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	evs := gen(genSpec{from: t10, to: horizon, perPane: 40, partitions: 4, terms: 30, prefix: "t", users: 300, ips: 400, seed: 1})
	writeBatchLayer(t, db, evs, time.Now().UTC())
	srv, _ := startServer(t, db)
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	sn := srv.snap.Load()
	// No sets: nothing from them.
	if v, err := srv.exactFromSets(ctx, sn, span{from: t10.Unix(), to: horizon.Unix()}, 900); err != nil || v != nil {
		t.Fatalf("without sets: %v, %v; want nothing", v, err)
	}

	writeExactSets(t, db, evs)
	// The sets answer now (at these volumes the sketches are near exact
	// too, so this is what tells the two apart).
	if v, err := srv.exactFromSets(ctx, sn, span{from: t10.Unix(), to: horizon.Unix()}, 900); err != nil || v == nil {
		t.Fatalf("with sets: %v, %v; want an answer", v, err)
	}
	for _, c := range []struct {
		from, to time.Time
		step     time.Duration
	}{
		{t10.Add(37 * time.Minute), t10.Add(73 * time.Minute), 15 * time.Minute},
		{t10, horizon, time.Hour},
		{t10.Add(5 * time.Minute), horizon.Add(-7 * time.Minute), 20 * time.Minute},
		{t10.Add(59 * time.Minute), t10.Add(61 * time.Minute), time.Minute},
	} {
		ans, err := srv.Traffic(ctx, TrafficQuery{Range: Range{From: c.from, To: c.to}, Step: c.step})
		if err != nil {
			t.Fatal(err)
		}
		if !ans.Exact {
			t.Fatalf("%s..%s: not exact", c.from, c.to)
		}
		for _, pt := range ans.Series {
			a, z := pt.T, pt.T.Add(c.step)
			if a.Before(c.from) {
				a = c.from
			}
			if z.After(c.to) {
				z = c.to
			}
			tr := truthOf(evs, a, z)
			if pt.PV != tr.pv || pt.UV != int64(len(tr.uv)) || pt.IPs != int64(len(tr.ips)) {
				t.Errorf("%s..%s bucket %s: pv %d uv %d ips %d, want %d %d %d", c.from, c.to, pt.T, pt.PV, pt.UV, pt.IPs, tr.pv, len(tr.uv), len(tr.ips))
			}
		}
		tr := truthOf(evs, c.from, c.to)
		if got := ans.Total; got.PV != tr.pv || got.UV != int64(len(tr.uv)) || got.IPs != int64(len(tr.ips)) {
			t.Errorf("%s..%s total: pv %d uv %d ips %d, want %d %d %d", c.from, c.to, got.PV, got.UV, got.IPs, tr.pv, len(tr.uv), len(tr.ips))
		}
	}
}
