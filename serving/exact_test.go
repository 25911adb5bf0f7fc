package serving

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/exact"
	"github.com/loglambda/loglambda/serving/lakesql"
)

// writeExactSets writes the exact sets of evs per hour into l as batch
// does (schemas/exact), numbering the non-IPv4 ids in dict (the test's own
// dictionary, kept by the caller across calls). It returns the bytes of
// sets written.
func writeExactSets(tb testing.TB, l *lake.Lake, dict map[string]uint32, evs []event.Event) int {
	tb.Helper()
	written := 0
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
		eh := &exact.Hour{Hour: h, Generation: 1, PaneSecs: 60, HourUV: exact.NewSet(), HourIPs: exact.NewSet()}
		for p := h.Unix(); p < h.Unix()+3600; p += 60 {
			if ps := panes[p]; ps != nil {
				eh.Panes = append(eh.Panes, p)
				eh.UV, eh.IPs = append(eh.UV, ps.uv), append(eh.IPs, ps.ips)
				if err := eh.HourUV.Or(ps.uv); err != nil {
					tb.Fatal(err)
				}
				if err := eh.HourIPs.Or(ps.ips); err != nil {
					tb.Fatal(err)
				}
			}
		}
		if err := eh.AddQuarters(); err != nil {
			tb.Fatal(err)
		}
		state, err := eh.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		written += len(state)
		if err := l.SaveState(context.Background(), exact.Name(h), state); err != nil {
			tb.Fatal(err)
		}
		if state, err = eh.HourOnly().Encode(); err != nil {
			tb.Fatal(err)
		}
		if err := l.SaveState(context.Background(), exact.HourName(h), state); err != nil {
			tb.Fatal(err)
		}
	}
	return written
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
	root := t.TempDir()
	l, err := lake.Open(root, topic)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := startServer(t, db, Lake(root))
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	sn := srv.snap.Load()
	// No sets: nothing from them.
	if v, err := srv.exactFromSets(ctx, sn, span{from: t10.Unix(), to: horizon.Unix()}, 900); err != nil || v != nil {
		t.Fatalf("without sets: %v, %v; want nothing", v, err)
	}

	writeExactSets(t, l, map[string]uint32{}, evs)
	srv.sets = setsCache{} // as a new state of the lake would (its digest)
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

// exactLake writes [from, to) of gen's events (perPane a minute) an hour
// at a time: the lake of topic under root (one file per hour, batch's
// writer and manifest) with the hours' exact sets. It returns the
// events (nil unless keep).
func exactLake(tb testing.TB, root string, from, to time.Time, perPane int, keep bool) []event.Event {
	tb.Helper()
	ctx := context.Background()
	l, err := lake.Open(root, topic)
	if err != nil {
		tb.Fatal(err)
	}
	m := lake.NewManifest(topic)
	dict := map[string]uint32{}
	var all []event.Event
	for h := from.Truncate(time.Hour); h.Before(to); h = h.Add(time.Hour) {
		a, z := h, h.Add(time.Hour)
		if a.Before(from) {
			a = from
		}
		if z.After(to) {
			z = to
		}
		evs := gen(genSpec{from: a, to: z, perPane: perPane, partitions: 4, terms: 300, prefix: "t", users: 20000, ips: 50000, seed: uint64(h.Unix())})
		for i := range evs {
			evs[i].IP = spreadIP(evs[i].IP)
		}
		b := event.NewRecordBuilder(nil)
		for i := range evs {
			evs[i].Offset = int64(i)
			b.Append(&evs[i])
		}
		rec := b.NewRecordBatch()
		b.Release()
		rel := lake.FilePath(h, 0, 0, int64(len(evs)-1))
		size, err := l.WriteFile(ctx, rel, rec)
		rec.Release()
		if err != nil {
			tb.Fatal(err)
		}
		m.AddFiles(lake.File{Path: rel, Partition: 0, LastOffset: int64(len(evs) - 1), Rows: int64(len(evs)), Bytes: size, Hour: h})
		writeExactSets(tb, l, dict, evs)
		if keep {
			all = append(all, evs...)
		}
	}
	if err := l.SaveManifest(ctx, m); err != nil {
		tb.Fatal(err)
	}
	return all
}

// spreadIP returns another address for ip, spread over the address space
// as the demo's are (internal/gen: a hash of the visitor), not gen's
// 10.0.x.y: the exact sets hold a spread address in a roaring container
// of its own, the costly case.
func spreadIP(ip string) string {
	if ip == "" {
		return ""
	}
	f := fnv.New32a()
	f.Write([]byte(ip))
	h := f.Sum32()
	return fmt.Sprintf("%d.%d.%d.%d", 11+(h>>24)%200, (h>>16)&0xff, (h>>8)&0xff, h&0xff)
}

// sameDistinct fails unless a and b have the same UV and IPs in every
// bucket and over the range.
func sameDistinct(tb testing.TB, what string, a, b *exactTraffic) {
	tb.Helper()
	if len(a.series) != len(b.series) {
		tb.Errorf("%s: %d buckets and %d", what, len(a.series), len(b.series))
	}
	for t, x := range a.series {
		y := b.series[t]
		if x.UV != y.UV || x.IPs != y.IPs {
			tb.Errorf("%s bucket %s: uv %d ips %d, the lake %d %d", what, time.Unix(t, 0).UTC(), x.UV, x.IPs, y.UV, y.IPs)
		}
	}
	if a.total.UV != b.total.UV || a.total.IPs != b.total.IPs {
		tb.Errorf("%s total: uv %d ips %d, the lake %d %d", what, a.total.UV, a.total.IPs, b.total.UV, b.total.IPs)
	}
}

// TestExactSetsMatchLake checks the sets' answers against DuckDB's count
// distinct over the same lake (48,000 events over two hours
// across midnight), for ranges and steps not on hours, and the fallback:
// an hour with rows but no sets is counted from the lake.
func TestExactSetsMatchLake(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	root := t.TempDir()
	from := time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)
	to := from.Add(2 * time.Hour)
	evs := exactLake(t, root, from, to, 400, true)
	writeBatch(t, db, evs, time.Now().UTC())
	writeHorizon(t, db, topic, to, time.Now().UTC())
	srv, _ := startServer(t, db, Lake(root))
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	sn := srv.snap.Load()
	cases := []struct {
		from, to time.Time
		step     time.Duration
	}{
		{from, to, time.Hour},
		{from.Add(37 * time.Minute), from.Add(73 * time.Minute), 15 * time.Minute},
		{from.Add(55 * time.Minute), from.Add(65 * time.Minute), time.Minute},
		{from.Add(1 * time.Minute), to.Add(-1 * time.Minute), 7 * time.Minute},
		// On quarters: buckets and the range from the hours' own and
		// their quarters' sets, no pane's.
		{from, to, 15 * time.Minute},
		{from.Add(15 * time.Minute), to.Add(-30 * time.Minute), 15 * time.Minute},
		{from.Add(45 * time.Minute), to, 30 * time.Minute},
	}
	check := func(what string) {
		t.Helper()
		for _, c := range cases {
			sp := span{from: c.from.Unix(), to: c.to.Unix()}
			step := int64(c.step / time.Second)
			sets, err := srv.exactFromSets(ctx, sn, sp, step)
			if err != nil || sets == nil {
				t.Fatalf("%s %s..%s: sets %v, %v", what, c.from, c.to, sets, err)
			}
			lk, err := srv.exactFromLake(ctx, sp, step)
			if err != nil {
				t.Fatal(err)
			}
			sameDistinct(t, what+" "+c.from.Format("15:04")+".."+c.to.Format("15:04")+" step "+c.step.String(), sets, lk)
			tr := truthOf(evs, c.from, c.to)
			if sets.total.UV != int64(len(tr.uv)) || sets.total.IPs != int64(len(tr.ips)) {
				t.Errorf("%s total uv %d ips %d, counted over the events %d %d", what, sets.total.UV, sets.total.IPs, len(tr.uv), len(tr.ips))
			}
		}
	}
	check("sets")
	// Ranges on quarters read no pane's sets.
	srv.sets = setsCache{}
	if v, err := srv.exactFromSets(ctx, sn, span{from: from.Unix(), to: to.Unix()}, 900); err != nil || v == nil {
		t.Fatalf("on quarters: %v, %v", v, err)
	}
	for k := range srv.sets.m {
		if k.panes {
			t.Errorf("a day on quarters read the panes' sets of %s", time.Unix(k.hour, 0).UTC())
		}
	}

	// A lake written before the quarters' sets (the first hour's files
	// without them): quarters are counted from the panes, the same.
	first, err := exact.Decode(mustRead(t, filepath.Join(root, topic, exact.Name(from))))
	if err != nil {
		t.Fatal(err)
	}
	first.QuarterUV, first.QuarterIPs = nil, nil
	for name, h := range map[string]*exact.Hour{exact.Name(from): first, exact.HourName(from): first.HourOnly()} {
		enc, err := h.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, topic, name), enc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv.sets = setsCache{} // as a new state of the lake would
	check("without quarters")

	// The second hour's sets gone (as in a lake recomputed before they
	// were written): the sets answer nothing, the answer comes from the
	// lake, the same.
	for _, name := range []string{exact.Name(from.Add(time.Hour)), exact.HourName(from.Add(time.Hour))} {
		if err := os.Remove(filepath.Join(root, topic, name)); err != nil {
			t.Fatal(err)
		}
	}
	srv.sets = setsCache{} // as a new state of the lake would
	sp := span{from: from.Add(30 * time.Minute).Unix(), to: to.Unix()}
	if v, err := srv.exactFromSets(ctx, sn, sp, 900); err != nil || v != nil {
		t.Fatalf("an hour without sets: %v, %v; want nothing", v, err)
	}
	ans, err := srv.Traffic(ctx, TrafficQuery{Range: Range{From: sp.fromTime(), To: sp.toTime()}, Step: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tr := truthOf(evs, sp.fromTime(), sp.toTime())
	if !ans.Exact || ans.Total.PV != tr.pv || ans.Total.UV != int64(len(tr.uv)) || ans.Total.IPs != int64(len(tr.ips)) {
		t.Errorf("fallback: exact %v pv %d uv %d ips %d, want %d %d %d", ans.Exact, ans.Total.PV, ans.Total.UV, ans.Total.IPs, tr.pv, len(tr.uv), len(tr.ips))
	}
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkExactDay measures the first exact answer of a day before the
// horizon (/v1/traffic's UV and IPs per hour and over the day) from the
// exact sets beside the same answer counted from the lake by DuckDB, in
// the same run, and checks that the two are equal. The day is written as
// batch writes it: 6,000 events a minute (the demo's 8.64 M a day; set
// LOGLAMBDA_EXACT_PER_MINUTE for less), one Parquet file and one sets
// file an hour. set-MiB/day is the sets' size. "sets" reads the sets
// from the lake each time (their cache emptied), as a first answer after
// a new state of the lake does.
//
//	go test ./serving/ -run '^$' -bench ExactDay -benchtime 5x
func BenchmarkExactDay(b *testing.B) {
	perPane := 6000
	if v, err := strconv.Atoi(os.Getenv("LOGLAMBDA_EXACT_PER_MINUTE")); err == nil && v > 0 {
		perPane = v
	}
	ctx := context.Background()
	db := testDB(b)
	from := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	// LOGLAMBDA_EXACT_DIR keeps the day for the next run (writing it
	// takes minutes).
	root := os.Getenv("LOGLAMBDA_EXACT_DIR")
	if root == "" {
		root = b.TempDir()
	}
	if _, err := os.Stat(filepath.Join(root, topic, "_manifest.json")); err != nil {
		setup := time.Now()
		exactLake(b, root, from, to, perPane, false)
		b.Logf("a day of %d events a minute written in %s", perPane, time.Since(setup))
	}
	var setBytes, hourBytes int64
	for h := from; h.Before(to); h = h.Add(time.Hour) {
		for _, f := range []struct {
			name string
			n    *int64
		}{{exact.Name(h), &setBytes}, {exact.HourName(h), &hourBytes}} {
			fi, err := os.Stat(filepath.Join(root, topic, f.name))
			if err != nil {
				b.Fatal(err)
			}
			*f.n += fi.Size()
		}
	}
	b.Logf("sets of the day: %.1f MiB with the panes', %.2f MiB the hours' alone", float64(setBytes)/(1<<20), float64(hourBytes)/(1<<20))
	// DuckDB over a day of the demo's volume took more than serving's
	// default 30 s once on a shared machine.
	srv, err := New(db, Topic(topic), Lake(root), SQL(lakesql.Timeout(10*time.Minute)), Now(func() time.Time { return to.Add(time.Hour) }))
	if err != nil {
		b.Fatal(err)
	}
	// The views' generation the server serves (no batch panes are written:
	// every hour has sets, so none is looked at).
	if err := srv.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	sn := srv.snap.Load()
	sp := span{from: from.Unix(), to: to.Unix()}
	var fromSets, fromLake *exactTraffic
	for _, step := range []int64{3600, 900} {
		b.Run(fmt.Sprintf("sets_step%dm", step/60), func(b *testing.B) {
			for b.Loop() {
				srv.sets = setsCache{}
				if fromSets, err = srv.exactFromSets(ctx, sn, sp, step); err != nil || fromSets == nil {
					b.Fatal(fromSets, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/answer")
			b.ReportMetric(float64(setBytes)/(1<<20), "set-MiB/day")
		})
	}
	fromSets, _ = srv.exactFromSets(ctx, sn, sp, 3600)
	b.Run("duckdb", func(b *testing.B) {
		for b.Loop() {
			if fromLake, err = srv.exactFromLake(ctx, sp, 3600); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/answer")
	})
	if fromSets != nil && fromLake != nil {
		sameDistinct(b, "day", fromSets, fromLake)
	}
}
