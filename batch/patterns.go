package batch

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
	"github.com/loglambda/loglambda/schemas/views"
)

// The patterns view is not a GROUP BY: an event's pattern is what its
// partition's miner says when the event arrives, and the miner depends on
// every earlier line of the partition. So batch mines as speed does: one
// miner per partition over every parsed row of the lake, in offset order
// (late rows included, as speed's miner sees them), with the same options
// and the same message rule (views.PatternMessage). The ids, absorptions
// and counts of a pane then equal speed's for every pane without late
// events (speed does not count those; batch does).
//
// Mining is incremental, as speed's is, and follows the lake: every
// recompute that finds rows compacted since the last one mines them, hours
// to write or not. Between recomputes batch keeps, in the lake's topic
// directory (patternsStateName), each partition's miner (an exact
// snapshot) and the first offset it has not mined, and the patterns states
// of the panes it mined whose hours are not yet written clean. A recompute mines only the rows past those offsets, adding each
// to its pane's state: the kept one, or for an hour written before (late
// rows made it dirty) the state of its batch documents. A state of the
// panes is the same whether its rows were added in one run or several
// (views.Patterns' Add and Absorb commute), and a restored miner mines on
// exactly as the uninterrupted one, so the result is what mining the
// whole lake again would give, at the cost of the new rows only. (At the
// view's caps, a kept state is folded where the whole run would have
// folded later; totals still add up.)
//
// The state is saved before any hour's documents are written, and a pane
// is dropped from it only once the manifest says its hour is written
// clean; so a recompute that fails half way finds every state it needs
// the next time. Without a state (a first run, a lake written before, a
// lake that went back, documents deleted behind the state) batch mines
// the whole lake.

// patternsStateName is the state's file in the topic directory.
const patternsStateName = "patterns-mining.state"

// patternsStateVersion is the version of the state's file format (JSON:
// the miners and pane states inside are their own binary encodings).
const patternsStateVersion = 1

// miningState is batch's pattern mining between recomputes.
type miningState struct {
	pane  time.Duration // the pane length it was mined with
	parts map[int32]*partMining
	// panes are the states of the panes mined whose hours are not written
	// clean yet.
	panes map[time.Time]*views.Patterns
}

// partMining is one partition's miner and how far it got.
type partMining struct {
	next  int64  // first offset not mined
	miner []byte // nil: no row mined yet
}

// miningFile is the state as stored, in a stable order.
type miningFile struct {
	Version    int             `json:"version"`
	Pane       time.Duration   `json:"pane"`
	Partitions []miningPartRec `json:"partitions"`
	Panes      []miningPaneRec `json:"panes"`
}

type miningPartRec struct {
	Partition int32  `json:"partition"`
	Next      int64  `json:"next_offset"`
	Miner     []byte `json:"miner"`
}

type miningPaneRec struct {
	Pane  time.Time `json:"pane"`
	State []byte    `json:"state"`
}

func (s *miningState) marshal() ([]byte, error) {
	f := miningFile{Version: patternsStateVersion, Pane: s.pane}
	for _, p := range slices.Sorted(maps.Keys(s.parts)) {
		f.Partitions = append(f.Partitions, miningPartRec{Partition: p, Next: s.parts[p].next, Miner: s.parts[p].miner})
	}
	for _, t := range slices.SortedFunc(maps.Keys(s.panes), time.Time.Compare) {
		st, err := s.panes[t].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("pane %s: %w", collections.PaneKey(t), err)
		}
		f.Panes = append(f.Panes, miningPaneRec{Pane: t, State: st})
	}
	return json.Marshal(f)
}

func unmarshalMiningState(data []byte) (*miningState, error) {
	var f miningFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	if f.Version != patternsStateVersion {
		return nil, fmt.Errorf("version %d, want %d", f.Version, patternsStateVersion)
	}
	s := &miningState{pane: f.Pane, parts: map[int32]*partMining{}, panes: map[time.Time]*views.Patterns{}}
	for _, p := range f.Partitions {
		s.parts[p.Partition] = &partMining{next: p.Next, miner: p.Miner}
	}
	for _, p := range f.Panes {
		st := views.NewPatterns()
		if err := st.UnmarshalBinary(p.State); err != nil {
			return nil, fmt.Errorf("pane %s: %w", collections.PaneKey(p.Pane), err)
		}
		s.panes[p.Pane.UTC()] = st
	}
	return s, nil
}

// loadMiningState reads the state, or returns a new one (and why) when
// there is none it can use with manifest m.
func (b *Batch) loadMiningState(ctx context.Context, m *lake.Manifest) (*miningState, string) {
	fresh := &miningState{pane: b.cfg.Pane, parts: map[int32]*partMining{}, panes: map[time.Time]*views.Patterns{}}
	data, err := b.lake.LoadState(ctx, patternsStateName)
	if err != nil {
		return fresh, err.Error()
	}
	if data == nil {
		return fresh, "no state"
	}
	s, err := unmarshalMiningState(data)
	if err != nil {
		return fresh, fmt.Sprintf("state %s: %v", patternsStateName, err)
	}
	if s.pane != b.cfg.Pane {
		return fresh, fmt.Sprintf("state mined with panes of %s, now %s", s.pane, b.cfg.Pane)
	}
	for p, pm := range s.parts {
		if mp := m.Partitions[p]; mp == nil || mp.NextOffset < pm.next {
			return fresh, fmt.Sprintf("partition %d: state mined to offset %d, the lake holds less", p, pm.next)
		}
	}
	// Panes of hours written clean are in their batch documents now;
	// hours without files any more (retention) need none.
	inLake := map[time.Time]bool{}
	for _, f := range m.Files {
		inLake[lake.Hour(f.Hour)] = true
	}
	for t := range s.panes {
		h := lake.Hour(t)
		if hs := m.Hours[h]; !inLake[h] || hs != nil && !hs.Recomputed.IsZero() && !hs.Dirty {
			delete(s.panes, t)
		}
	}
	return s, ""
}

// unmined reports whether m has rows past the miners of s.
func (s *miningState) unmined(m *lake.Manifest) bool {
	for _, f := range m.Files {
		if pm := s.parts[f.Partition]; pm == nil || f.LastOffset >= pm.next {
			return true
		}
	}
	return false
}

// errRemine says that the state cannot be continued: mine the whole lake.
var errRemine = errors.New("the batch documents of a mined hour are missing")

// minePatterns mines the rows of the lake not mined yet and returns the
// patterns states of the panes of the hours to do (todo); see above.
// It also returns the number of rows mined.
// st and why are loadMiningState's.
func (b *Batch) minePatterns(ctx context.Context, conn *sql.Conn, m *lake.Manifest, st *miningState, why string, todo []time.Time) (map[time.Time]*views.Patterns, int64, error) {
	out, rows, err := b.mineFrom(ctx, conn, m, st, todo, mineWindowRows)
	if errors.Is(err, errRemine) {
		why = err.Error()
		st = &miningState{pane: b.cfg.Pane, parts: map[int32]*partMining{}, panes: map[time.Time]*views.Patterns{}}
		out, rows, err = b.mineFrom(ctx, conn, m, st, todo, mineWindowRows)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("patterns: %w", err)
	}
	if why != "" {
		b.cfg.Logger.Info("patterns mined over the whole lake", "why", why)
	}
	data, err := st.marshal()
	if err == nil {
		err = b.lake.SaveState(ctx, patternsStateName, data)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("patterns: %w", err)
	}
	return out, rows, nil
}

// sqlPatternRows reads what the miner and the view need, in offset order,
// of one partition's offsets [lo, hi). raw is read only for rows with no
// message and no request (views.PatternMessage's last resort). Arguments:
// the file list, lo, hi.
const sqlPatternRows = `
SELECT "offset", epoch_us(ts) AS ts_us, msg, method, path, status, level, instance, host,
    CASE WHEN msg = '' AND method = '' AND path = '' THEN raw ELSE NULL END AS raw
FROM read_parquet(%s, hive_partitioning = false, union_by_name = true)
WHERE parse_error = '' AND "offset" >= %d AND "offset" < %d
ORDER BY "offset"`

// mineWindowRows is about the most rows one query of the miners sorts:
// windows of a partition's offsets are joined up to it. An hour of a
// partition is one window or a few; DuckDB then sorts at most about that
// many rows (tens of MB), not the lake's (the first recompute of a week's
// backfill sorted 60 M rows, spilling past batch's DuckDB bound, and held
// the process near 3 GB).
const mineWindowRows = 1 << 20

// mineWindow is one query of the miners: partition's offsets [lo, hi),
// from the files whose offsets meet that range.
type mineWindow struct {
	partition int32
	lo, hi    int64
	files     []lake.File
}

// mineWindows cuts the offsets of each partition's files not yet mined
// (from next(p)) into windows at the files' first offsets, joined while
// the files starting in a window hold fewer than maxRows rows, in
// partition and offset order. A file's offsets are a range that late rows
// make overlap its neighbours' (an hour's file ends after the next hour's
// began), so a window reads every file its range meets; the rows of a
// partition read window after window are its rows in offset order, each
// once.
func mineWindows(files []lake.File, next func(int32) int64, maxRows int64) []mineWindow {
	byPart := map[int32][]lake.File{}
	for _, f := range files {
		if f.LastOffset >= next(f.Partition) {
			byPart[f.Partition] = append(byPart[f.Partition], f)
		}
	}
	var out []mineWindow
	for _, p := range slices.Sorted(maps.Keys(byPart)) {
		fs := byPart[p]
		slices.SortFunc(fs, func(a, b lake.File) int { return cmp.Compare(a.FirstOffset, b.FirstOffset) })
		end := int64(0) // one past the partition's last offset
		for _, f := range fs {
			end = max(end, f.LastOffset+1)
		}
		// Cuts: the first offset to mine, then each file's first offset
		// once the rows since the last cut reach maxRows.
		lo := next(p)
		cuts := []int64{lo}
		var rows int64
		for _, f := range fs {
			if f.FirstOffset > cuts[len(cuts)-1] && rows >= maxRows {
				cuts = append(cuts, f.FirstOffset)
				rows = 0
			}
			rows += f.Rows
		}
		cuts = append(cuts, end)
		for i := 0; i+1 < len(cuts); i++ {
			w := mineWindow{partition: p, lo: cuts[i], hi: cuts[i+1]}
			if w.lo >= w.hi {
				continue
			}
			for _, f := range fs {
				if f.FirstOffset < w.hi && f.LastOffset >= w.lo {
					w.files = append(w.files, f)
				}
			}
			out = append(out, w)
		}
	}
	return out
}

// mineFrom continues the miners of st over the rows of m's files they
// have not mined, updates st (miners, offsets, panes) and returns the
// states of the panes of the hours todo and the number of rows mined. It
// reads the rows in windows of about windowRows rows (mineWindows).
func (b *Batch) mineFrom(ctx context.Context, conn *sql.Conn, m *lake.Manifest, st *miningState, todo []time.Time, windowRows int64) (out map[time.Time]*views.Patterns, mined int64, err error) {
	full := len(st.parts) == 0
	next := func(p int32) int64 {
		if pm := st.parts[p]; pm != nil {
			return pm.next
		}
		return 0
	}
	windows := mineWindows(m.Files, next, windowRows)
	// From documents: the states of hours written before, loaded once.
	docs := map[time.Time]map[time.Time]*views.Patterns{}
	written := func(t time.Time) (*views.Patterns, error) {
		h := lake.Hour(t)
		if hs := m.Hours[h]; full || hs == nil || hs.Recomputed.IsZero() {
			return views.NewPatterns(), nil
		}
		if docs[h] == nil {
			d, err := b.readPatternDocs(ctx, h)
			if err != nil {
				return nil, err
			}
			if len(d) == 0 && b.minedBefore(m, st, h) {
				return nil, fmt.Errorf("hour %s: %w", h.Format(time.RFC3339), errRemine)
			}
			docs[h] = d
		}
		if s := docs[h][t]; s != nil {
			return s, nil
		}
		return views.NewPatterns(), nil
	}
	if len(windows) > 0 {
		var (
			tr      *patterns.Tracker
			curPart int32 = -1
			ev      event.Event
			buf     []byte
			raw     []byte
			tsUS    int64
			seen    bool // a row of curPart mined
		)
		// flush keeps the current partition's miner, after its last row.
		flush := func() {
			if tr != nil && seen {
				st.parts[curPart] = &partMining{next: ev.Offset + 1, miner: tr.Miner().MarshalSnapshot()}
			}
		}
		row := func(rows *sql.Rows) error {
			raw = raw[:0]
			var off int64
			if err := rows.Scan(&off, &tsUS, &ev.Msg, &ev.Method, &ev.Path, &ev.Status,
				&ev.Level, &ev.Instance, &ev.Host, &raw); err != nil {
				return err
			}
			ev.Offset, seen = off, true
			ev.Raw = raw
			ev.Time = time.UnixMicro(tsUS).UTC()
			buf = views.PatternMessage(&ev, buf)
			mined++
			id, tmpl, abs := tr.Add(buf)
			start := b.grid.Start(ev.Time)
			s := st.panes[start]
			if s == nil {
				var err error
				if s, err = written(start); err != nil {
					return err
				}
				st.panes[start] = s
			}
			for _, a := range abs {
				s.Absorb(a)
			}
			s.Add(id, tmpl, &ev, buf)
			return nil
		}
		for _, w := range windows {
			if tr == nil || w.partition != curPart {
				flush()
				var err error
				if tr, err = b.tracker(st, w.partition); err != nil {
					return nil, 0, err
				}
				curPart, seen = w.partition, false
				ev.Partition = w.partition
			}
			paths, release, err := b.lake.Fetch(ctx, w.files)
			if err != nil {
				return nil, 0, err
			}
			err = query(ctx, conn, fmt.Sprintf(sqlPatternRows, sqlStringList(paths), w.lo, w.hi), row)
			release()
			if err != nil {
				return nil, 0, fmt.Errorf("partition %d offsets [%d, %d): %w", w.partition, w.lo, w.hi, err)
			}
		}
		flush()
		// Every offset of the files read is mined now, the last rows of
		// a partition being parse errors or not.
		for _, f := range m.Files {
			pm := st.parts[f.Partition]
			if pm == nil {
				pm = &partMining{}
				st.parts[f.Partition] = pm
			}
			pm.next = max(pm.next, f.LastOffset+1)
		}
	}
	out = map[time.Time]*views.Patterns{}
	want := make(map[time.Time]bool, len(todo))
	for _, h := range todo {
		want[h] = true
	}
	for t, s := range st.panes {
		if want[lake.Hour(t)] {
			out[t] = s
		}
	}
	// The panes of an hour written before that no row touched since are
	// as its documents have them.
	for _, h := range todo {
		if hs := m.Hours[h]; hs == nil || hs.Recomputed.IsZero() || full {
			continue
		}
		if _, err := written(h); err != nil {
			return nil, 0, err
		}
		for t, s := range docs[h] {
			if out[t] == nil {
				out[t] = s
			}
		}
	}
	return out, mined, nil
}

// tracker returns a tracker continuing partition p's miner of st.
func (b *Batch) tracker(st *miningState, p int32) (*patterns.Tracker, error) {
	pm := st.parts[p]
	if pm == nil || pm.miner == nil {
		return patterns.NewTracker(views.PatternMinerOptions), nil
	}
	mn := patterns.NewMiner(views.PatternMinerOptions)
	if err := mn.UnmarshalSnapshot(pm.miner); err != nil {
		return nil, fmt.Errorf("partition %d: miner: %w", p, err)
	}
	return patterns.NewTrackerFrom(mn), nil
}

// minedBefore reports whether the state's miners have mined rows of hour
// h: a file of h with offsets below its partition's next offset.
func (b *Batch) minedBefore(m *lake.Manifest, st *miningState, h time.Time) bool {
	for _, f := range m.Files {
		if pm := st.parts[f.Partition]; pm != nil && lake.Hour(f.Hour).Equal(h) && f.FirstOffset < pm.next {
			return true
		}
	}
	return false
}

// readPatternDocs reads the patterns states of hour h's batch documents.
func (b *Batch) readPatternDocs(ctx context.Context, h time.Time) (map[time.Time]*views.Patterns, error) {
	coll := b.db.Collection(collections.BatchCollection(views.ViewPatterns))
	cur, err := coll.Find(ctx, bson.D{{Key: "pane", Value: bson.D{{Key: "$gte", Value: h}, {Key: "$lt", Value: h.Add(time.Hour)}}}})
	if err != nil {
		return nil, fmt.Errorf("read %s of hour %s: %w", coll.Name(), h.Format(time.RFC3339), err)
	}
	var ds []collections.Doc
	if err := cur.All(ctx, &ds); err != nil {
		return nil, fmt.Errorf("read %s of hour %s: %w", coll.Name(), h.Format(time.RFC3339), err)
	}
	out := make(map[time.Time]*views.Patterns, len(ds))
	for _, d := range ds {
		s := views.NewPatterns()
		if err := s.UnmarshalBinary(d.State); err != nil {
			return nil, fmt.Errorf("doc %s: %w", d.ID, err)
		}
		out[d.Pane.UTC()] = s
	}
	return out, nil
}
