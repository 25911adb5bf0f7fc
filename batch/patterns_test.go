package batch

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// checkPatterns checks the patterns documents of the recomputed hours
// against mining the whole lake again from nothing (what batch did before
// it mined incrementally): byte for byte, pane by pane. Each pane also
// counts every parsed event of the pane once.
func (s *stack) checkPatterns(ctx context.Context, recs []genRecord) {
	s.t.Helper()
	b := s.batch()
	m, err := b.lake.LoadManifest(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	var hours []time.Time
	for h, hs := range m.Hours {
		if !hs.Recomputed.IsZero() {
			hours = append(hours, h)
		}
	}
	conn, closeDuck, err := duckConn(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	defer closeDuck()
	// The whole lake in one query per partition (as batch mined before it
	// read in windows), and in the smallest windows (one per file).
	fresh := &miningState{pane: b.cfg.Pane, parts: map[int32]*partMining{}, panes: map[time.Time]*views.Patterns{}}
	want, _, err := b.mineFrom(ctx, conn, m, fresh, hours, math.MaxInt64)
	if err != nil {
		s.t.Fatal(err)
	}
	small := &miningState{pane: b.cfg.Pane, parts: map[int32]*partMining{}, panes: map[time.Time]*views.Patterns{}}
	windowed, _, err := b.mineFrom(ctx, conn, m, small, hours, 1)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(windowed) != len(want) {
		s.t.Errorf("mined in windows of one file: %d panes, in one query: %d", len(windowed), len(want))
	}
	for t, w := range want {
		wb, _ := w.MarshalBinary()
		gb, _ := windowed[t].MarshalBinary()
		if windowed[t] == nil || !bytes.Equal(gb, wb) {
			s.t.Errorf("pane %s: mined in windows of one file differs from one query", t.Format(time.RFC3339))
		}
	}
	got := map[time.Time]*views.Patterns{}
	for _, h := range hours {
		d, err := b.readPatternDocs(ctx, h)
		if err != nil {
			s.t.Fatal(err)
		}
		for t, st := range d {
			got[t] = st
		}
	}
	truth := map[time.Time]int64{}
	for _, h := range hours {
		for t, e := range expectPanes(recs, h, h.Add(time.Hour)) {
			for _, n := range e.levels {
				truth[t] += n
			}
		}
	}
	if len(got) != len(want) || len(got) != len(truth) {
		s.t.Errorf("%d patterns docs, mining the whole lake gives %d panes, the input %d", len(got), len(want), len(truth))
	}
	for t, w := range want {
		g := got[t]
		if g == nil {
			s.t.Errorf("pane %s: no patterns doc", t.Format(time.RFC3339))
			continue
		}
		gb, _ := g.MarshalBinary()
		wb, _ := w.MarshalBinary()
		if !bytes.Equal(gb, wb) {
			s.t.Errorf("pane %s: incremental %v\nwhole lake %v", t.Format(time.RFC3339), g.Summary(), w.Summary())
		}
		if g.Total() != truth[t] {
			s.t.Errorf("pane %s: %d events in patterns, %d parsed", t.Format(time.RFC3339), g.Total(), truth[t])
		}
	}
}

// TestMiningState: the state round-trips, and a state that does not fit
// the lake or is damaged is not used.
func TestMiningState(t *testing.T) {
	st := views.NewPatterns()
	st.Add(42, "user <*>", &event.Event{Time: time.Unix(601, 0), Level: "INFO"}, []byte("user bob"))
	s := &miningState{pane: time.Minute, parts: map[int32]*partMining{0: {next: 10, miner: []byte("m0")}, 3: {next: 7, miner: nil}},
		panes: map[time.Time]*views.Patterns{time.Unix(600, 0).UTC(): st}}
	data, err := s.marshal()
	if err != nil {
		t.Fatal(err)
	}
	r, err := unmarshalMiningState(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := r.marshal()
	if !bytes.Equal(again, data) || r.parts[0].next != 10 || string(r.parts[0].miner) != "m0" || r.panes[time.Unix(600, 0).UTC()].Total() != 1 {
		t.Fatalf("round trip: %+v", r)
	}
	for i := 0; i < len(data); i++ {
		if _, err := unmarshalMiningState(data[:i]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", i)
		}
	}
	dir := t.TempDir()
	b := &Batch{cfg: defaultCfg()}
	if b.lake, err = lake.Open(dir, "logs"); err != nil {
		t.Fatal(err)
	}
	b.cfg.Pane = time.Minute
	if err := b.lake.SaveState(context.Background(), patternsStateName, data); err != nil {
		t.Fatal(err)
	}
	m := lake.NewManifest("logs")
	m.Partition(0).NextOffset, m.Partition(3).NextOffset = 10, 7
	if got, why := b.loadMiningState(context.Background(), m); why != "" || len(got.parts) != 2 {
		t.Errorf("state that fits: not used (%s)", why)
	}
	m.Partition(3).NextOffset = 5 // the lake went back
	if got, why := b.loadMiningState(context.Background(), m); why == "" || len(got.parts) != 0 {
		t.Errorf("state ahead of the lake: used")
	}
	m.Partition(3).NextOffset = 7
	b.cfg.Pane = 5 * time.Minute
	if got, why := b.loadMiningState(context.Background(), m); why == "" || len(got.parts) != 0 {
		t.Errorf("state of another pane length: used")
	}
}

// TestMineWindows: the windows of each partition cover its offsets from
// the first not mined to its last file's end, in order, each offset once,
// and each lists exactly the files holding offsets of its range; a window
// is cut at a file's first offset only once maxRows rows start before it.
func TestMineWindows(t *testing.T) {
	f := func(p int32, first, last, rows int64) lake.File {
		return lake.File{Path: fmt.Sprintf("p%d-%d", p, first), Partition: p, FirstOffset: first, LastOffset: last, Rows: rows}
	}
	// Partition 0: hours whose late rows overlap the next hour's file, and a
	// small late file; partition 1: one file, half mined.
	files := []lake.File{
		f(0, 200, 330, 120), f(0, 0, 120, 100), f(0, 100, 230, 110), f(0, 310, 315, 6),
		f(1, 0, 99, 100),
	}
	next := func(p int32) int64 { return map[int32]int64{0: 0, 1: 50}[p] }
	cases := []struct {
		maxRows int64
		want    []string // partition [lo, hi) files
	}{
		{1, []string{
			"0 [0, 100) p0-0",
			"0 [100, 200) p0-0 p0-100",
			"0 [200, 310) p0-100 p0-200",
			"0 [310, 331) p0-200 p0-310",
			"1 [50, 100) p1-0",
		}},
		{150, []string{
			"0 [0, 200) p0-0 p0-100",
			"0 [200, 331) p0-100 p0-200 p0-310",
			"1 [50, 100) p1-0",
		}},
		{math.MaxInt64, []string{"0 [0, 331) p0-0 p0-100 p0-200 p0-310", "1 [50, 100) p1-0"}},
	}
	for _, c := range cases {
		var got []string
		for _, w := range mineWindows(files, next, c.maxRows) {
			s := fmt.Sprintf("%d [%d, %d)", w.partition, w.lo, w.hi)
			for _, f := range w.files {
				s += " " + f.Path
			}
			got = append(got, s)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("maxRows %d:\n got %q\nwant %q", c.maxRows, got, c.want)
		}
	}
	// A partition mined to its end has no window.
	if ws := mineWindows(files, func(int32) int64 { return 331 }, 1); len(ws) != 0 || len(mineWindows(files[4:], func(int32) int64 { return 100 }, 1)) != 0 {
		t.Errorf("windows past every file's end: %v", ws)
	}
}
