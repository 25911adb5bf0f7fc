package views

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"time"
	"unique"

	"github.com/loglambda/loglambda/schemas/event"
)

// ViewPaths is the paths view: requests, bytes and latency per URL path,
// with mergeable quantile sketches.
const ViewPaths = "paths"

// pathsView declares the paths view (Registry): folded by batch from the
// lake's rows with Add, like speed.
var pathsView = func() Spec {
	sp := define(ViewPaths, CountEvents, "summary: paths (how many), top (the 10 busiest with count and latency p50, p99)",
		func(p *Pane) **Paths { return &p.Paths },
		func(c PaneSpec, _ time.Time) *Paths {
			if c.Merging {
				return NewMergePaths()
			}
			return NewPaths()
		},
		(*Paths).Add, (*Paths).Merge, (*Paths).Clone, (*Paths).Summary)
	sp.columns = func(*Pane) []string { return []string{event.ColPath, event.ColBytes, event.ColLatencyMS} }
	return sp
}()

// Paths holds, per URL path of the requests (events with a path), the
// number of requests and two Sketches: bytes sent and latency. It is a
// monoid like every view: counts add, sketches add bucket by bucket, so
// speed's per-partition states, batch's and any window merge exactly.
//
// At most PathsCap paths are kept: beyond that the paths that sort last
// are folded into PathsOther (a path of request ids must not grow a
// document without bound). Keeping the smallest paths, not the first
// seen, makes the result depend only on the multiset of events, as in
// Levels, so speed and batch agree under the cap too.
type Paths struct {
	// limit is the cap (PathsCap; 0: none, for a query's accumulator).
	limit int
	paths map[string]*PathStat
}

// PathStat is one path's figures.
type PathStat struct {
	Path  string
	Count int64
	// BytesSum is the exact sum of the requests' bytes.
	BytesSum int64
	Bytes    Sketch
	Latency  Sketch
}

// PathsCap is the number of paths a Paths state keeps; see Paths.
const PathsCap = 1000

// PathsOther is the path under which paths beyond PathsCap count.
const PathsOther = "(other)"

// NewPaths returns an empty state with the cap.
func NewPaths() *Paths { return &Paths{limit: PathsCap, paths: map[string]*PathStat{}} }

// NewMergePaths returns an empty state without a cap, to merge many panes
// into (PaneSpec.Merging: serving's hour blocks and answers): the result
// keeps every path its panes kept.
func NewMergePaths() *Paths { return &Paths{paths: map[string]*PathStat{}} }

// Add counts one request: an event with a path. Its bytes go into the
// bytes sketch; its latency, when it has one (> 0), into the latency
// sketch.
func (s *Paths) Add(ev *event.Event) {
	if ev.Path == "" {
		return
	}
	st := s.stat(ev.Path)
	st.Count++
	st.BytesSum += ev.Bytes
	st.Bytes.Add(float64(ev.Bytes))
	if ev.LatencyMS > 0 {
		st.Latency.Add(ev.LatencyMS)
	}
	s.maybeFold()
}

func (s *Paths) stat(path string) *PathStat {
	st := s.paths[path]
	if st == nil {
		// A copy: path is a substring of the parsed line, and a key that
		// holds it keeps the whole line in memory as long as the pane
		// (a fifth of speed's state at 10 M users a day, BenchmarkMemory).
		path = strings.Clone(path)
		st = &PathStat{Path: path}
		s.paths[path] = st
	}
	return st
}

// Merge adds o into s.
func (s *Paths) Merge(o *Paths) {
	if o == nil {
		return
	}
	for p, os := range o.paths {
		st := s.stat(p)
		st.add(os)
	}
	s.maybeFold()
}

// add merges o's figures into st.
func (st *PathStat) add(o *PathStat) {
	st.Count += o.Count
	st.BytesSum += o.BytesSum
	st.Bytes.Merge(&o.Bytes)
	st.Latency.Merge(&o.Latency)
}

// Clone returns an independent copy.
func (s *Paths) Clone() *Paths {
	c := &Paths{limit: s.limit, paths: make(map[string]*PathStat, len(s.paths))}
	for p, st := range s.paths {
		c.paths[p] = &PathStat{Path: p, Count: st.Count, BytesSum: st.BytesSum, Bytes: st.Bytes.clone(), Latency: st.Latency.clone()}
	}
	return c
}

// Len is the number of paths held.
func (s *Paths) Len() int { return len(s.folded().paths) }

// folded is s with the paths beyond its cap folded (see Paths), without
// changing s: a state shared by concurrent readers stays safe.
func (s *Paths) folded() *Paths {
	if s.limit == 0 || len(s.paths) <= s.limit+1 {
		return s
	}
	c := s.Clone()
	c.fold()
	return c
}

// TopPaths returns the k busiest paths of the merge of states (busiest
// first, then by path) and how many paths that merge holds: what
// NewMergePaths merged with every state gives with Stats, but with the
// sketches of the k paths merged alone, not those of every path of the
// range (thousands over a day). The states are not changed.
func TopPaths(states []*Paths, k int) (top []*PathStat, total int) {
	return TopPathsCounted(states, nil, k)
}

// PathCounts is a Paths state's requests per path, the paths interned
// (unique.Handle): prepared once for a state read by many answers (an
// hour, day or quarter block), it lets TopPathsCounted count a range by
// adding numbers under pointer-sized keys, where counting by the paths
// themselves hashed every path's bytes of every state (over a day, 23
// hour blocks of thousands of paths each: most of a first answer's time).
type PathCounts struct {
	paths  []unique.Handle[string]
	counts []int64
}

// Counts prepares s's counts for TopPathsCounted (s read as is, like
// TopPaths: not folded).
func (s *Paths) Counts() *PathCounts {
	c := &PathCounts{paths: make([]unique.Handle[string], 0, len(s.paths)), counts: make([]int64, 0, len(s.paths))}
	for p, st := range s.paths {
		c.paths = append(c.paths, unique.Make(p))
		c.counts = append(c.counts, st.Count)
	}
	return c
}

// TopPathsCounted is TopPaths with counts[i], when counts is long enough
// and counts[i] is not nil, the Counts of states[i] (prepared before);
// the answer is TopPaths'.
//
// The counts map is sized for the largest state first (growing it from
// empty rehashed every path of a day's hour blocks several times), and
// only the k busiest are sorted, out of a slice, not the whole map.
func TopPathsCounted(states []*Paths, counts []*PathCounts, k int) (top []*PathStat, total int) {
	most := 0
	for _, s := range states {
		if s != nil {
			most = max(most, len(s.paths))
		}
	}
	// The states without counts (a range's edge panes) are counted by
	// path first: a path is interned once, not once per state.
	byPath := make(map[unique.Handle[string]]int64, 2*most)
	var byName map[string]int64
	for i, s := range states {
		if i < len(counts) && counts[i] != nil {
			c := counts[i]
			for j, h := range c.paths {
				byPath[h] += c.counts[j]
			}
			continue
		}
		if s == nil {
			continue
		}
		if byName == nil {
			byName = make(map[string]int64, 2*len(s.paths))
		}
		for p, st := range s.paths {
			byName[p] += st.Count
		}
	}
	for p, n := range byName {
		byPath[unique.Make(p)] += n
	}
	type pathCount struct {
		path  string
		count int64
	}
	busier := func(a, b pathCount) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.path, b.path)
	}
	// The k busiest, kept in order: the paths come in the map's random
	// order, so few beat the k-th and are inserted (a path's string read
	// only then: a tie with the k-th).
	k = min(k, len(byPath))
	best := make([]pathCount, 0, k+1)
	for h, n := range byPath {
		if len(best) == k && (k == 0 || n < best[k-1].count) {
			continue
		}
		pc := pathCount{h.Value(), n}
		if len(best) == k && busier(pc, best[k-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(best, pc, busier)
		best = slices.Insert(best, i, pc)
		if len(best) > k {
			best = best[:k]
		}
	}
	for _, pc := range best {
		p := pc.path
		st := &PathStat{Path: p}
		for _, s := range states {
			if s == nil {
				continue
			}
			if o := s.paths[p]; o != nil {
				st.add(o)
			}
		}
		top = append(top, st)
	}
	return top, len(byPath)
}

// Stats returns the paths, busiest first (then by path).
func (s *Paths) Stats() []*PathStat {
	f := s.folded()
	out := make([]*PathStat, 0, len(f.paths))
	for _, st := range f.paths {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b *PathStat) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Path, b.Path)
	})
	return out
}

// maybeFold folds the paths beyond the cap into PathsOther (see Paths).
// It runs only past twice the cap, so a stream of new paths costs a sort
// per PathsCap of them; MarshalBinary folds fully, so a stored state is
// within the cap.
func (s *Paths) maybeFold() {
	if s.limit > 0 && len(s.paths) > 2*s.limit {
		s.fold()
	}
}

func (s *Paths) fold() {
	if s.limit == 0 || len(s.paths) <= s.limit+1 {
		return
	}
	keys := make([]string, 0, len(s.paths))
	for p := range s.paths {
		if p != PathsOther {
			keys = append(keys, p)
		}
	}
	if len(keys) <= s.limit {
		return
	}
	slices.Sort(keys)
	other := s.stat(PathsOther)
	for _, p := range keys[s.limit:] {
		other.add(s.paths[p])
		delete(s.paths, p)
	}
}

// Summary is what a document shows people beside the state.
func (s *Paths) Summary() map[string]any {
	top := s.Stats()
	n := len(top)
	if n > 10 {
		top = top[:10]
	}
	rows := make([]map[string]any, len(top))
	for i, st := range top {
		rows[i] = map[string]any{"path": st.Path, "count": st.Count,
			"latency_p50": st.Latency.Quantile(0.5), "latency_p99": st.Latency.Quantile(0.99)}
	}
	return map[string]any{"paths": n, "top": rows}
}

// pathsVersion is the first byte of an encoded Paths state.
const pathsVersion = 1

// MarshalBinary encodes the state (folded to the cap): the version, then
// per path in sorted order its name, count, bytes sum and two sketches; equal states
// encode to equal bytes.
func (s *Paths) MarshalBinary() ([]byte, error) {
	c := s.folded()
	keys := make([]string, 0, len(c.paths))
	for p := range c.paths {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	b := []byte{pathsVersion}
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, p := range keys {
		st := c.paths[p]
		b = appendBlob(b, p)
		b = binary.AppendUvarint(b, uint64(st.Count))
		b = binary.AppendVarint(b, st.BytesSum)
		b = st.Bytes.append(b)
		b = st.Latency.append(b)
	}
	return b, nil
}

// UnmarshalBinary replaces s by the decoded state; on error s is unchanged.
func (s *Paths) UnmarshalBinary(data []byte) error {
	r, _, err := openState(ViewPaths, data, pathsVersion, pathsVersion)
	if err != nil {
		return err
	}
	n := r.count("path")
	ns := NewPaths()
	for i := uint64(0); i < n && r.err == nil; i++ {
		st := &PathStat{Path: r.str(), Count: int64(r.uvarint()), BytesSum: r.varint()}
		st.Bytes.read(r)
		st.Latency.read(r)
		ns.paths[st.Path] = st
	}
	if err := r.done(); err != nil {
		return err
	}
	*s = *ns
	return nil
}

// Sketch is a mergeable quantile sketch of positive values with a
// relative error bound (DDSketch's logarithmic buckets): a value x > 0
// counts in bucket ceil(log_γ x), γ = (1+α)/(1-α), and a bucket answers
// 2γ^i/(γ+1), within α·x of every value it holds. Values <= 0 (and NaN)
// count in a bucket of their own that answers 0. Buckets add, so merging
// sketches gives exactly the sketch of the union, in any order.
type Sketch struct {
	// Zero counts the values <= 0.
	Zero int64
	// buckets holds (index, count), sorted by index.
	idx    []int32
	counts []int64
}

// SketchAlpha is the sketches' relative accuracy: a quantile answered is
// within SketchAlpha·v of the true value v at the same rank.
const SketchAlpha = 0.01

var (
	sketchGamma    = (1 + SketchAlpha) / (1 - SketchAlpha)
	sketchLogGamma = math.Log(sketchGamma)
)

// sketchIndex is the bucket of x > 0.
func sketchIndex(x float64) int32 {
	return int32(math.Ceil(math.Log(x) / sketchLogGamma))
}

// Add counts one value.
func (k *Sketch) Add(x float64) {
	if !(x > 0) || math.IsInf(x, 1) {
		k.Zero++
		return
	}
	k.addBucket(sketchIndex(x), 1)
}

func (k *Sketch) addBucket(i int32, n int64) {
	j := searchIndex(k.idx, i)
	if j < len(k.idx) && k.idx[j] == i {
		k.counts[j] += n
		return
	}
	k.idx = slices.Insert(k.idx, j, i)
	k.counts = slices.Insert(k.counts, j, n)
}

// searchIndex is the position of the first of the sorted idx that is >=
// i (len(idx) when none is): slices.BinarySearch without its branch per
// step, which values spread over a sketch's buckets mispredict half the
// time (arithmetic instead; the paths view searches two sketches per
// event).
func searchIndex(idx []int32, i int32) int {
	base, n := 0, len(idx)
	if n == 0 {
		return 0
	}
	for n > 1 {
		half := n / 2
		// lt is 1 when idx[base+half-1] < i, else 0 (the sign of their
		// difference, which an int64 holds exactly).
		lt := int(uint64(int64(idx[base+half-1])-int64(i)) >> 63)
		base += half & -lt
		n -= half
	}
	if idx[base] < i {
		base++
	}
	return base
}

// Merge adds o into k: in place for a few buckets, else one pass over
// both sorted lists (inserting bucket by bucket costs a copy of the tail
// each, quadratic when merging a day of sketches).
func (k *Sketch) Merge(o *Sketch) {
	k.Zero += o.Zero
	switch {
	case len(o.idx) == 0:
		return
	case len(k.idx) == 0:
		k.idx, k.counts = slices.Clone(o.idx), slices.Clone(o.counts)
		return
	case len(o.idx) <= 4:
		for j, i := range o.idx {
			k.addBucket(i, o.counts[j])
		}
		return
	}
	idx := make([]int32, 0, len(k.idx)+len(o.idx))
	counts := make([]int64, 0, len(k.idx)+len(o.idx))
	a, b := 0, 0
	for a < len(k.idx) && b < len(o.idx) {
		switch x, y := k.idx[a], o.idx[b]; {
		case x < y:
			idx, counts = append(idx, x), append(counts, k.counts[a])
			a++
		case x > y:
			idx, counts = append(idx, y), append(counts, o.counts[b])
			b++
		default:
			idx, counts = append(idx, x), append(counts, k.counts[a]+o.counts[b])
			a, b = a+1, b+1
		}
	}
	idx, counts = append(idx, k.idx[a:]...), append(counts, k.counts[a:]...)
	idx, counts = append(idx, o.idx[b:]...), append(counts, o.counts[b:]...)
	k.idx, k.counts = idx, counts
}

// Count is the number of values counted.
func (k *Sketch) Count() int64 {
	n := k.Zero
	for _, c := range k.counts {
		n += c
	}
	return n
}

// Quantile returns the value at rank q·(n-1) (0 <= q <= 1; the lower
// value when the rank falls between two), within SketchAlpha of the true
// one; 0 for an empty sketch.
func (k *Sketch) Quantile(q float64) float64 {
	n := k.Count()
	if n == 0 {
		return 0
	}
	rank := int64(math.Floor(min(max(q, 0), 1) * float64(n-1)))
	if rank < k.Zero {
		return 0
	}
	seen := k.Zero
	for j, c := range k.counts {
		seen += c
		if seen > rank {
			return 2 * math.Pow(sketchGamma, float64(k.idx[j])) / (sketchGamma + 1)
		}
	}
	return 2 * math.Pow(sketchGamma, float64(k.idx[len(k.idx)-1])) / (sketchGamma + 1)
}

// clip reallocates k's buckets to their length when merging left them a
// quarter or more of spare capacity.
func (k *Sketch) clip() { k.idx, k.counts = clipped(k.idx), clipped(k.counts) }

func (k *Sketch) clone() Sketch {
	return Sketch{Zero: k.Zero, idx: slices.Clone(k.idx), counts: slices.Clone(k.counts)}
}

// append encodes k: zero count, bucket count, then (index delta, count).
func (k *Sketch) append(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(k.Zero))
	b = binary.AppendUvarint(b, uint64(len(k.idx)))
	prev := int32(0)
	for j, i := range k.idx {
		b = binary.AppendVarint(b, int64(i-prev))
		b = binary.AppendUvarint(b, uint64(k.counts[j]))
		prev = i
	}
	return b
}

// read decodes what append wrote.
func (k *Sketch) read(r *reader) {
	k.Zero = int64(r.uvarint())
	n := r.count("bucket")
	prev := int64(0)
	for j := uint64(0); j < n && r.err == nil; j++ {
		prev += r.varint()
		c := int64(r.uvarint())
		if len(k.idx) > 0 && int32(prev) <= k.idx[len(k.idx)-1] {
			r.err = errors.New("sketch buckets out of order")
			return
		}
		k.idx = append(k.idx, int32(prev))
		k.counts = append(k.counts, c)
	}
}
