package serving

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// flat is sn without its hour and day blocks: every range is merged pane
// by pane, the answer serving gave before it had tiers, and the reference
// the tiered answers are compared with.
func flat(sn *snapshot) *snapshot {
	f := *sn
	f.batch = layer{panes: sn.batch.panes, hours: map[int64]*state{}, days: map[int64]*state{}}
	f.speed = layer{panes: sn.speed.panes, hours: map[int64]*state{}, days: map[int64]*state{}}
	// Another data version: nothing cached over sn answers over f.
	f.batchGen = ^uint64(0)
	return &f
}

// tierDay is the fixture of the tier tests: batch has recomputed the day
// before it (horizon at its start), speed holds the day itself and the
// half hour after it, from one partition.
var tierDay = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

// TestTieredAnswersMatchPaneByPane answers ranges over two days of real
// documents (a day of batch panes, a day and a half hour of speed panes),
// from day, hour and pane states, and compares every answer with the same
// question merged pane by pane: the tiers change the cost, never the
// answer. Ranges: both whole days, ranges cut off the hour and off the
// day, straddling the horizon, and the previous periods patterns read.
func TestTieredAnswersMatchPaneByPane(t *testing.T) {
	testkit.SkipShort(t, "writes two days of view documents")
	db := testDB(t)
	day0 := tierDay.Add(-24 * time.Hour)
	end := tierDay.Add(24*time.Hour + 30*time.Minute)
	// 5-minute panes: two days of documents in a few seconds; an hour is
	// still 12 panes, a day 288, and the edges of a range panes.
	const w = 5 * time.Minute
	batchEvs := gen(genSpec{from: day0, to: tierDay, perPane: 12, partitions: 1, terms: 300, prefix: "t", users: 2000, ips: 900, paths: 200, seed: 31})
	speedEvs := gen(genSpec{from: tierDay, to: end, perPane: 12, partitions: 2, terms: 300, prefix: "t", users: 2000, ips: 900, paths: 200, seed: 32})
	now := time.Now().UTC()
	writeBatchPane(t, db, batchEvs, now, w)
	writeBatchTiers(t, db, now)
	// One view's tier of one hour missing (too large for batch to
	// store): that hour, and its day, are merged from the panes.
	if _, err := db.Collection(collections.TierCollection(views.ViewHot)).DeleteOne(context.Background(),
		bson.M{"_id": collections.TierID(views.ViewHot, day0.Add(5*time.Hour), time.Hour)}); err != nil {
		t.Fatal(err)
	}
	writeHorizon(t, db, topic, tierDay, now)
	for view, ds := range speedDocsPane(t, speedEvs, 0, now, w) { // exact speed summaries: hot answers compare equal
		replaceDocs(t, db.Collection(collections.SpeedCollection(view)), ds)
	}
	// Held encoded in spill files (SpillDir): every answer below reads
	// them back.
	srv, err := New(db, Topic(topic), Pane(w), Now(func() time.Time { return end }), SpillDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	sn := srv.snap.Load()
	if n, all := spilledPanes(sn.batch), len(sn.batch.panes); n != all {
		t.Errorf("%d of %d batch panes in spill files, want all", n, all)
	}
	if n := spilledPanes(sn.speed); n != len(sn.speed.panes)-6 {
		t.Errorf("%d of %d speed panes in spill files, want all but the 6 of the hour still filling", n, len(sn.speed.panes))
	}
	if srv.r.tierStates != 23+1 {
		t.Errorf("%d hour and day states taken from batch's tiers, want 23 hours and the day", srv.r.tierStates)
	}
	if len(sn.batch.days) != 1 || len(sn.speed.days) != 1 {
		t.Fatalf("day blocks: batch %d, speed %d, want 1 and 1", len(sn.batch.days), len(sn.speed.days))
	}
	// Held encoded: every batch pane, and every speed pane but those of
	// the hour still filling (the half hour after the day: 6 panes); a
	// cache far smaller than the day's panes, so that the answers below
	// decode panes again as they are pushed out.
	if n := decodedPanes(sn.batch); n != 0 {
		t.Errorf("%d of %d batch panes held decoded, want 0", n, len(sn.batch.panes))
	}
	if n := decodedPanes(sn.speed); n != 6 {
		t.Errorf("%d of %d speed panes held decoded, want the 6 of the hour still filling", n, len(sn.speed.panes))
	}
	srv.decoded.maxBytes = 64 << 10
	fl := flat(sn)
	pane := srv.paneSeconds()
	ranges := []struct{ from, to time.Time }{
		{day0, end},
		{day0, tierDay},
		{tierDay, tierDay.Add(24 * time.Hour)},
		{day0.Add(5*time.Hour + 15*time.Minute), tierDay.Add(19*time.Hour + 45*time.Minute)},
		{day0.Add(23 * time.Hour), tierDay.Add(25 * time.Hour)},
		{tierDay.Add(30 * time.Minute), end},
	}
	for _, rg := range ranges {
		for _, step := range []time.Duration{w, 15 * time.Minute, time.Hour, 24 * time.Hour} {
			ser, err := srv.series(Range{From: rg.from, To: rg.to}, step)
			if err != nil {
				t.Fatal(err)
			}
			name := rg.from.Format(time.RFC3339) + ".." + rg.to.Format(time.RFC3339) + " step " + step.String()
			want := truthOf(append(append([]event.Event{}, batchEvs...), speedEvs...), ser.sp.fromTime(), ser.sp.toTime())

			tt, err := srv.trafficOf(context.Background(), ser.on(sn))
			if err != nil {
				t.Fatal(err)
			}
			tf, _ := srv.trafficOf(context.Background(), ser.on(fl))
			if !reflect.DeepEqual(tt, tf) {
				t.Errorf("%s: traffic from tiers %+v, pane by pane %+v", name, tt.Total, tf.Total)
			}
			if tt.Total.PV != want.pv {
				t.Errorf("%s: pv %d, want %d", name, tt.Total.PV, want.pv)
			}
			lt, lf := levelsOf(ser.on(sn), LevelsQuery{}), levelsOf(ser.on(fl), LevelsQuery{})
			if !reflect.DeepEqual(lt, lf) || !reflect.DeepEqual(lt.Total, want.levels) {
				t.Errorf("%s: levels from tiers %v, pane by pane %v, want %v", name, lt.Total, lf.Total, want.levels)
			}
			pt, pf := patternsOf(ser.on(sn), PatternsQuery{}, 20), patternsOf(ser.on(fl), PatternsQuery{}, 20)
			if !reflect.DeepEqual(pt, pf) {
				t.Errorf("%s: patterns from tiers differ from pane by pane: total %d and %d, top %+v and %+v", name, pt.Total, pf.Total, pt.Patterns[:min(1, len(pt.Patterns))], pf.Patterns[:min(1, len(pf.Patterns))])
			}
			// Clusters: each bucket's events (clusters, outliers, missing)
			// those of its panes, whose micro-clusters quarter blocks merge.
			ct, cf := clustersOf(ser.on(sn), 3), clustersOf(ser.on(fl), 3)
			if ct.Events+ct.Missing != want.pv || len(ct.Series) != len(cf.Series) {
				t.Errorf("%s: clusters events %d + missing %d, want pv %d; %d buckets, pane by pane %d", name, ct.Events, ct.Missing, want.pv, len(ct.Series), len(cf.Series))
			} else {
				for i := range ct.Series {
					if a, b := bucketEvents(ct.Series[i]), bucketEvents(cf.Series[i]); a != b {
						t.Errorf("%s: clusters bucket %s: %d events, pane by pane %d", name, ct.Series[i].T.Format(time.RFC3339), a, b)
					}
				}
			}
			if step != w {
				continue // hot has no series: once per range
			}
			// Paths: from day, hour and quarter blocks (their counts
			// prepared, the quarters' paths decoded again through the
			// small cache) as pane by pane, and as counted from the events.
			at, af := pathsOf(sn, ser.sp, pane, 15), pathsOf(fl, ser.sp, pane, 15)
			if !reflect.DeepEqual(at, af) {
				t.Errorf("%s: paths from tiers %d of %d, pane by pane %d of %d, or figures differ", name, len(at.Paths), at.TotalPaths, len(af.Paths), af.TotalPaths)
			}
			if top, total := topPathCounts(append(append([]event.Event{}, batchEvs...), speedEvs...), ser.sp, 15); at.TotalPaths != total || len(at.Paths) != len(top) {
				t.Errorf("%s: %d paths of %d, want %d of %d", name, len(at.Paths), at.TotalPaths, len(top), total)
			} else {
				for i, p := range at.Paths {
					if p.Path != top[i].path || p.Count != top[i].n {
						t.Errorf("%s: path %d %s %d, want %s %d", name, i, p.Path, p.Count, top[i].path, top[i].n)
					}
				}
			}
			ht, hf := hotOf(sn, ser.sp, pane, 50), hotOf(fl, ser.sp, pane, 50)
			if !reflect.DeepEqual(ht, hf) || !reflect.DeepEqual(ht.Terms, want.top(50)) {
				t.Errorf("%s: hot from tiers %v, pane by pane %v, want %v", name, ht.Terms[:min(3, len(ht.Terms))], hf.Terms[:min(3, len(hf.Terms))], want.top(3))
			}
			if n, most := len(sn.statesIn(nil, ser.sp.from, ser.sp.to, pane)), 2+2*23+2*11; n > most {
				t.Errorf("%s: %d states merged, want at most %d", name, n, most)
			}
		}
	}
	// A quarter of a complete hour is one state for clusters and patterns
	// (its quarter block), its panes for the other views.
	q0 := day0.Add(5*time.Hour + 15*time.Minute).Unix()
	for _, l := range []layer{sn.batch, sn.speed} {
		if len(l.quarters) == 0 {
			t.Errorf("no quarter blocks")
		}
	}
	if n, m := len(sn.quarterStatesIn(nil, q0, q0+quarterSeconds, pane)), len(sn.statesIn(nil, q0, q0+quarterSeconds, pane)); n != 1 || m != 3 {
		t.Errorf("a quarter of batch: %d states with quarter blocks, %d without, want 1 and 3", n, m)
	}
	// A quarter's paths held encoded, their counts prepared.
	for _, l := range []layer{sn.batch, sn.speed} {
		for q, st := range l.quarters {
			if st.enc == nil || st.pane.Paths != nil || st.paths == nil {
				t.Errorf("quarter %s: paths encoded %v, decoded %v, counts %v; want encoded and counted only", fmtTime(time.Unix(q, 0)), st.enc != nil, st.pane.Paths != nil, st.paths != nil)
			}
		}
	}
	if decodes, _ := srv.decoded.counts(); decodes == 0 || srv.decoded.size > srv.decoded.maxBytes {
		t.Errorf("decode cache: %d views decoded, %d bytes held, want some and at most %d", decodes, srv.decoded.size, srv.decoded.maxBytes)
	}
}

// pathCount is a path's requests.
type pathCount struct {
	path string
	n    int64
}

// topPathCounts counts the requests per path of evs in sp (pathCounts),
// as a user would: the k busiest (then by path) and how many paths there
// are.
func topPathCounts(evs []event.Event, sp span, k int) ([]pathCount, int) {
	var all []pathCount
	for p, c := range pathCounts(evs, sp.fromTime(), sp.toTime()) {
		all = append(all, pathCount{p, int64(c)})
	}
	slices.SortFunc(all, func(a, b pathCount) int {
		if a.n != b.n {
			return int(b.n - a.n)
		}
		return strings.Compare(a.path, b.path)
	})
	return all[:min(k, len(all))], len(all)
}

// bucketEvents is a clusters bucket's events: in clusters, outliers and
// without features.
func bucketEvents(p ClustersPoint) int64 {
	n := p.Outliers + p.Missing
	for _, c := range p.Counts {
		n += c
	}
	return n
}

// spilledPanes counts the panes of l whose every view is in a spill file.
func spilledPanes(l layer) int {
	n := 0
	for _, st := range l.panes {
		if st.enc != nil && st.enc.file != nil && !slices.ContainsFunc(st.enc.views, func(b []byte) bool { return b != nil }) {
			n++
		}
	}
	return n
}

// decodedPanes counts the panes of l held decoded.
func decodedPanes(l layer) int {
	n := 0
	for _, st := range l.panes {
		if st.pane != nil {
			n++
		}
	}
	return n
}

// writeHorizonHours writes batch's horizon document with the hours
// recomputed and when, as batch does.
func writeHorizonHours(tb testing.TB, db *mongo.Database, horizon time.Time, hours, recomputed []time.Time, updated time.Time) {
	tb.Helper()
	doc := collections.HorizonDoc{ID: collections.HorizonDocID(topic), Topic: topic, Horizon: horizon, Hours: hours, Recomputed: recomputed, Updated: updated}
	if _, err := db.Collection(collections.MetaCollection).ReplaceOne(context.Background(), bson.M{"_id": doc.ID}, doc, options.Replace().SetUpsert(true)); err != nil {
		tb.Fatal(err)
	}
}

// TestRefreshReadsOnlyRecomputedHours moves the horizon and recomputes an
// hour below it, as a batch run does, and checks that the refresh read
// those hours alone (by _id, however long the history) and that every
// answer equals the one of a server that read the whole batch layer.
func TestRefreshReadsOnlyRecomputedHours(t *testing.T) {
	db := testDB(t)
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	spec := func(from, to time.Time, seed uint64) genSpec {
		return genSpec{from: from, to: to, perPane: 15, partitions: 1, terms: 40, prefix: "t", users: 200, ips: 200, seed: seed}
	}
	hours := func(from time.Time, n int) []time.Time {
		var hs []time.Time
		for i := range n {
			hs = append(hs, from.Add(time.Duration(i)*time.Hour))
		}
		return hs
	}
	at := func(ts ...time.Time) []time.Time { return ts }
	// Batch has 10:00-12:00.
	writeBatch(t, db, gen(spec(t10, horizon, 1)), t0)
	writeBatchTiers(t, db, t0)
	writeHorizonHours(t, db, horizon, hours(t10, 2), at(t0, t0), t0)
	srv, _ := startServer(t, db)
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The next run recomputes 10:00 (late events: other content) and
	// 12:00, the horizon moving to 13:00.
	t1 := t0.Add(time.Minute)
	ten := gen(spec(t10, t10.Add(time.Hour), 2))
	twelve := gen(spec(horizon, t13, 3))
	writeBatch(t, db, append(ten, twelve...), t1)
	writeBatchTiers(t, db, t1)
	writeHorizonHours(t, db, t13, hours(t10, 3), at(t1, t0, t1), t1)
	tiersBefore := srv.r.tierStates
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := srv.r.hoursRead; got != 2 {
		t.Errorf("hours read by _id: %v, want 2 (10:00 and 12:00)", got)
	}
	// Their hour tiers (10:00 and 12:00), read by _id with them.
	if got := srv.r.tierStates - tiersBefore; got != 2 {
		t.Errorf("%d hour or day states taken from batch's tiers read by _id, want 2 (10:00 and 12:00)", got)
	}
	if got := srv.r.wholeReads; got != 1 {
		t.Errorf("whole reads: %v, want 1 (the first refresh)", got)
	}
	whole, _ := startServer(t, db)
	if err := whole.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	sp := span{from: t10.Unix(), to: t13.Unix()}
	if a, b := hotOf(srv.snap.Load(), sp, 60, 100), hotOf(whole.snap.Load(), sp, 60, 100); !reflect.DeepEqual(a, b) {
		t.Errorf("hot after reading the changed hours %v, after reading all %v", a.Terms, b.Terms)
	}
	for _, step := range []time.Duration{time.Minute, time.Hour} {
		ser, err := srv.series(Range{From: t10, To: t13}, step)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := srv.trafficOf(context.Background(), ser.on(srv.snap.Load()))
		b, _ := whole.trafficOf(context.Background(), ser.on(whole.snap.Load()))
		if !reflect.DeepEqual(a, b) {
			t.Errorf("step %s: traffic after reading the changed hours %+v, after reading all %+v", step, a.Total, b.Total)
		}
		eleven := gen(spec(t10, horizon, 1))[60*15:] // 11:00-12:00 of the first run
		if want := truthOf(append(append(eleven, ten...), twelve...), t10, t13); a.Total.PV != want.pv {
			t.Errorf("step %s: pv %d, want %d", step, a.Total.PV, want.pv)
		}
		if l1, l2 := levelsOf(ser.on(srv.snap.Load()), LevelsQuery{}), levelsOf(ser.on(whole.snap.Load()), LevelsQuery{}); !reflect.DeepEqual(l1, l2) {
			t.Errorf("step %s: levels after reading the changed hours %v, after reading all %v", step, l1.Total, l2.Total)
		}
		if p1, p2 := patternsOf(ser.on(srv.snap.Load()), PatternsQuery{}, 10), patternsOf(ser.on(whole.snap.Load()), PatternsQuery{}, 10); !reflect.DeepEqual(p1, p2) {
			t.Errorf("step %s: patterns after reading the changed hours differ from after reading all", step)
		}
	}
}

// TestRefreshCostFlatWithHistory: with 3 hours and with a day of history
// in the store (batch panes and tiers, an hour of speed), a refresh after
// speed rewrote its last two panes reads those documents, the
// checkpoints and the horizon document: the same number whatever the
// history, as /v1/status's refresh reports it (its ms are logged, not
// asserted).
func TestRefreshCostFlatWithHistory(t *testing.T) {
	testkit.SkipShort(t, "writes a day of view documents")
	const w = 5 * time.Minute
	end := tierDay.Add(24 * time.Hour)
	hz := end.Add(-time.Hour)
	read := map[time.Duration]int64{}
	for _, hist := range []time.Duration{3 * time.Hour, 24 * time.Hour} {
		t.Run(hist.String(), func(t *testing.T) {
			db := testDB(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Millisecond)
			spec := func(from, to time.Time, perPane int, seed uint64) genSpec {
				return genSpec{from: from, to: to, perPane: perPane, partitions: 2, terms: 50, prefix: "t", users: 300, ips: 300, seed: seed}
			}
			writeBatchPane(t, db, gen(spec(end.Add(-hist), hz, 4, 41)), now, w)
			writeBatchTiers(t, db, now)
			writeHorizon(t, db, topic, hz, now)
			for view, ds := range speedDocsPane(t, gen(spec(hz, end, 4, 42)), speedCap, now, w) {
				replaceDocs(t, db.Collection(collections.SpeedCollection(view)), ds)
			}
			checkpoints := func(updated time.Time, written []collections.PaneWrite) {
				for p := int32(0); p < 2; p++ {
					cp := collections.Checkpoint{ID: collections.CheckpointID(topic, p), Topic: topic, Partition: p,
						Updated: updated, Written: written, WrittenSince: now}
					if _, err := db.Collection(collections.CheckpointCollection).ReplaceOne(ctx, bson.D{{Key: "_id", Value: cp.ID}}, cp,
						options.Replace().SetUpsert(true)); err != nil {
						t.Fatal(err)
					}
				}
			}
			checkpoints(now, nil)
			srv, err := New(db, Topic(topic), Pane(w), Now(func() time.Time { return end }))
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			first := srv.costs.cost()
			// A tick: speed rewrites its last two panes of both
			// partitions and lists them in its checkpoints.
			at := now.Add(time.Second)
			var wrote int64
			for view, ds := range speedDocsPane(t, gen(spec(end.Add(-2*w), end, 7, 43)), speedCap, at, w) {
				replaceDocs(t, db.Collection(collections.SpeedCollection(view)), ds)
				wrote += int64(len(ds))
			}
			checkpoints(at, []collections.PaneWrite{{Pane: end.Add(-2 * w), At: at}, {Pane: end.Add(-w), At: at}})
			if err := srv.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			c := srv.costs.cost()
			// The documents written, 2 checkpoints and the horizon document.
			if want := wrote + 2 + 1; c.LastDocs != want {
				t.Errorf("the tick read %d documents, want the %d written, 2 checkpoints and the horizon document (%d)", c.LastDocs, wrote, want)
			}
			read[hist] = c.LastDocs
			t.Logf("history %s: the first refresh read %d documents in %.0f ms; the tick %d in %.1f ms", hist, first.LastDocs, first.LastMS, c.LastDocs, c.LastMS)
		})
	}
	if read[3*time.Hour] != read[24*time.Hour] {
		t.Errorf("a tick read %d documents with 3 h of history, %d with 24 h", read[3*time.Hour], read[24*time.Hour])
	}
}
