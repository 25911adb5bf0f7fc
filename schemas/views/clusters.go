package views

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// Clusters is the clusters view of one pane (per partition in speed): the
// micro-clusters (CluStream's cluster feature vectors, Aggarwal, Han,
// Wang, Yu, VLDB 2003) of the events' numeric features, kept on a grid.
// A feature is a numeric event field (ClusterSpec.Fields) under the fixed
// transform Transform (a signed log1p), so that states of all partitions
// and times live in one space.
//
// A micro-cluster is a feature vector of sums (MicroCluster): count,
// linear and squared sums per feature, linear and squared sums of time,
// plus min and max; two of them merge by addition. Each one owns a cell of
// a grid over the transformed space, cubes of side Spec.Cell * 2^(Level/2):
// a point joins the micro-cluster of its cell, else starts one there (a
// hash lookup, no search); when that makes more than Spec.Max, the grid
// coarsens one level and the micro-clusters whose centroids now share a
// cell merge, until at most Spec.Max are left. A cell is convex, so a
// micro-cluster's points and centroid stay in its cell: micro-clusters
// never straddle groups farther apart than a cell, however sparse the
// pane, and their min and max stay inside their own group. (CluStream's
// boundary rule let a micro-cluster of one event take any event within its
// distance to the nearest other one, which in a sparse pane mixed groups
// far apart.) Nothing is dropped: the counts add up to the events with
// features, and Missing counts the others.
//
// Add is deterministic: the same events in the same order give the same
// state, bit for bit, also across an encode and decode (the order of the
// micro-clusters, their cells and the level are kept), which is what
// speed's restart rule and batch's equality with speed rest on.
//
// Merge is the union of the micro-clusters (sorted, so it is commutative
// and associative up to float rounding of the time shift), with Missing
// added: the batch state of a pane is the union of the per-partition
// states, exactly what speed holds. Reduce merges micro-clusters sharing a
// cell, coarsening the grid down to a cap: the pyramidal time frame's hour
// and day states.
type Clusters struct {
	spec *ClusterSpec
	// Base is the Unix second the time sums are relative to (the pane
	// start for a state built by Add), so that squared sums of time keep
	// their precision.
	Base int64
	// Missing counts events without any of the features.
	Missing int64
	mcs     []*MicroCluster
	// level is the grid's: cells of side spec.Cell * 2^(level/2).
	level int
	// cells holds micro-cluster i's cell at cells[i*d:(i+1)*d], distinct
	// and valid when keyed (a state built by Add or decoded); a union or
	// an old encoding is keyed again (rekey) before it takes a point.
	cells []int32
	keyed bool
	// distinct is the number of distinct cells buildIndex last met.
	distinct int
	// index maps a cell to its micro-cluster (open addressing, index+1,
	// 0 empty); rebuilt from cells when nil.
	index []int32
	// inv is 1/width() at level invLevel-1 (0: not computed).
	inv      float64
	invLevel int
	// slab and slabF are micro-clusters and their sums allocated ahead
	// for Add (newMicro); never shared, Clone leaves them out.
	slab  []MicroCluster
	slabF []float64
	// scratch is Add's: the raw and transformed features and the cell of
	// the event being added.
	scratch struct {
		raw, x [maxClusterFields]float64
		cell   [maxClusterFields]int32
	}
}

// MicroCluster is one CluStream cluster feature vector. The feature sums
// are over transformed values; RS and RSS are the same sums over raw
// values, so that serving can answer means and standard deviations in the
// field's own units; Min and Max are raw.
type MicroCluster struct {
	N        int64
	LS, SS   []float64
	RS, RSS  []float64
	Min, Max []float64
	// LST and SST are the linear and squared sums of event time, in
	// seconds since the state's Base.
	LST, SST float64
	// c is the centroid LS/N, kept because every distance reads it.
	c []float64
}

// ClusterSpec says how a clusters state is built: which fields are its
// features, how many micro-clusters it keeps and how fine its finest grid
// is. It travels in every encoded state, so that states built with
// another spec are refused by Merge rather than mixed.
type ClusterSpec struct {
	Fields []string
	Max    int
	// Cell is the side of the finest grid's cells in the transformed
	// space (log1p units: 0.05 is about 5 % apart).
	Cell float64
	// kinds are Fields as featureLatency ... featureExtra, read once so
	// that Add does not compare field names per event.
	kinds []int8
}

// The kinds of feature: an Event column or an extra field.
const (
	featureExtra int8 = iota
	featureLatency
	featureBytes
	featureStatus
)

// Cluster defaults, printed by --help through the commands' flags.
const (
	DefaultClusterFields = "latency_ms,bytes"
	DefaultMicroClusters = 100
	// DefaultClusterCell is the finest grid's cell side: events within
	// about 5 % of each other in every feature share a micro-cluster
	// until the cap coarsens the grid.
	DefaultClusterCell = 0.05
	// TierMicroClusters is the cap of the hour and day states: they hold
	// what 4 partitions' panes hold.
	TierMicroClusters = 400
	maxClusterFields  = 16
	// maxLevel is the coarsest grid: one cell holds every point, so that
	// coarsening always ends, whatever the cap and dimension.
	maxLevel = 128
)

// NewClusterSpec parses a comma-separated field list and checks the
// settings. An empty list disables the view: Add then counts nothing.
func NewClusterSpec(fields string, max int, cell float64) (*ClusterSpec, error) {
	s := &ClusterSpec{Max: max, Cell: cell}
	for _, f := range strings.Split(fields, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if slices.Contains(s.Fields, f) {
			return nil, fmt.Errorf("cluster fields %q: %q twice", fields, f)
		}
		s.Fields = append(s.Fields, f)
	}
	switch {
	case len(s.Fields) > maxClusterFields:
		return nil, fmt.Errorf("cluster fields %q: %d fields, more than the allowed %d", fields, len(s.Fields), maxClusterFields)
	case max < 2:
		return nil, fmt.Errorf("micro-clusters %d is smaller than 2", max)
	case max > 100000:
		return nil, fmt.Errorf("micro-clusters %d is larger than allowed 100000", max)
	case !(cell >= 1e-6 && cell <= 1e3):
		return nil, fmt.Errorf("cluster cell %g must be a number from 1e-6 to 1000", cell)
	}
	s.resolve()
	return s, nil
}

// resolve sets kinds from Fields.
func (s *ClusterSpec) resolve() {
	s.kinds = make([]int8, len(s.Fields))
	for i, f := range s.Fields {
		switch f {
		case "latency_ms":
			s.kinds[i] = featureLatency
		case "bytes":
			s.kinds[i] = featureBytes
		case "status":
			s.kinds[i] = featureStatus
		}
	}
}

// DefaultClusterSpec is the spec of the defaults.
func DefaultClusterSpec() *ClusterSpec {
	s, _ := NewClusterSpec(DefaultClusterFields, DefaultMicroClusters, DefaultClusterCell)
	return s
}

func (s *ClusterSpec) equal(o *ClusterSpec) bool {
	return slices.Equal(s.Fields, o.Fields) && s.Max == o.Max && s.Cell == o.Cell
}

// NewClusters returns an empty state of spec whose time sums are relative
// to base.
func NewClusters(spec *ClusterSpec, base time.Time) *Clusters {
	return &Clusters{spec: spec, Base: base.Unix(), keyed: true}
}

// Spec is the state's spec.
func (c *Clusters) Spec() *ClusterSpec { return c.spec }

// Level is the grid's level: cells of side Spec().Cell * 2^(Level/2).
func (c *Clusters) Level() int { return c.level }

// Transform maps a raw feature value into the clustering space: a signed
// log1p, so that latencies and sizes spread over decades become comparable
// and a state's meaning never depends on the data it saw.
func Transform(x float64) float64 {
	if x < 0 {
		return -log1p(-x)
	}
	return log1p(x)
}

// log1p is math.Log1p for x >= 0, cheaper: it was most of the cost of an
// Add. From x = 2^-20 on it takes log(1+x) from a table of logTableSize
// logarithms around the mantissa of 1+x and a degree 6 polynomial of the
// remainder (|r| <= 1/256, truncation below 1e-17); rounding 1+x moves the
// result by at most 2^-53, ten orders of magnitude below the finest cell
// allowed (1e-6). TestLog1p holds it to math.Log1p. Smaller, NaN and
// infinite values keep math.Log1p.
func log1p(x float64) float64 {
	if !(x >= 0x1p-20 && x < math.MaxFloat64) {
		return math.Log1p(x)
	}
	bits := math.Float64bits(1 + x)
	e := float64(int(bits>>52) - 1023)
	j := bits >> (52 - logTableBits) & (logTableSize - 1)
	m := math.Float64frombits(bits&(1<<52-1) | 1023<<52) // [1, 2)
	t := &logTable[j]
	r := m*t.inv - 1
	p := r * (1 - r*(1.0/2-r*(1.0/3-r*(1.0/4-r*(1.0/5-r*(1.0/6))))))
	return e*ln2Hi + (t.log + (e*ln2Lo + p))
}

// The table of log1p: entry j holds, for c = 1+(j+1/2)/logTableSize, a
// float64 inv near 1/c and log = -log(inv) exactly rounded, so that
// log(m) = log + log(m*inv) whatever inv's rounding.
const (
	logTableBits = 7
	logTableSize = 1 << logTableBits
	ln2Hi        = 6.93147180369123816490e-01 // the high bits of ln 2 (as math.Log1p splits it)
	ln2Lo        = 1.90821492927058770002e-10
)

var logTable = func() (t [logTableSize]struct{ inv, log float64 }) {
	for j := range t {
		c := 1 + (float64(j)+0.5)/logTableSize
		t[j].inv = 1 / c
		t[j].log = -math.Log(t[j].inv)
	}
	return t
}()

// Untransform is Transform's inverse.
func Untransform(y float64) float64 {
	if y < 0 {
		return -math.Expm1(-y)
	}
	return math.Expm1(y)
}

// ClusterFeature reads one feature of ev: the event's latency_ms, bytes
// and status columns, or any extra field holding a number. ok is false
// when the event has no value: an Event column at its zero value (the
// Event's "absent"), an extra field missing or not a finite number.
func ClusterFeature(ev *event.Event, field string) (v float64, ok bool) {
	switch field {
	case "latency_ms":
		return ev.LatencyMS, ev.LatencyMS != 0 && !math.IsNaN(ev.LatencyMS) && !math.IsInf(ev.LatencyMS, 0)
	case "bytes":
		return float64(ev.Bytes), ev.Bytes != 0
	case "status":
		return float64(ev.Status), ev.Status != 0
	}
	s, found := ev.Fields[field]
	if !found {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// features fills raw with ev's features; an event takes part when at
// least one is present, the absent ones counting as 0 (a 304 answer has no
// bytes but a latency). The columns are read as ClusterFeature reads them.
func (c *Clusters) features(ev *event.Event, raw []float64) bool {
	any := false
	for i, k := range c.spec.kinds {
		var v float64
		var ok bool
		switch k {
		case featureLatency:
			v = ev.LatencyMS
			ok = v != 0 && v-v == 0 // neither NaN nor infinite
		case featureBytes:
			v, ok = float64(ev.Bytes), ev.Bytes != 0
		case featureStatus:
			v, ok = float64(ev.Status), ev.Status != 0
		default:
			v, ok = ClusterFeature(ev, c.spec.Fields[i])
		}
		if !ok {
			v = 0
		}
		raw[i] = v
		any = any || ok
	}
	return any
}

// Add folds one event in. The caller (Pane.Add) leaves out parse errors.
// Its buffers are the state's (scratch), not locals: Go zeroes a local
// array on every call, a quarter of an Add's instructions.
func (c *Clusters) Add(ev *event.Event) {
	d := len(c.spec.Fields)
	if d == 0 {
		return
	}
	raw, x := c.scratch.raw[:d], c.scratch.x[:d]
	if !c.features(ev, raw) {
		c.Missing++
		return
	}
	for i, v := range raw {
		x[i] = Transform(v)
	}
	// Microseconds, as the lake keeps event times: batch sees the same t.
	t := float64(ev.Time.UnixMicro()-c.Base*1e6) / 1e6
	c.addPoint(x, raw, t)
}

// addPoint is Add after the features were read: the point joins the
// micro-cluster of its cell or starts one, and over the cap the grid
// coarsens.
func (c *Clusters) addPoint(x, raw []float64, t float64) {
	if !c.keyed || c.index == nil {
		c.regrid(c.spec.Max, !c.keyed)
	}
	k := c.scratch.cell[:len(x)]
	c.cellOf(x, k)
	slot, j := c.lookup(k)
	if j >= 0 {
		c.mcs[j].addPoint(x, raw, t)
		return
	}
	m := c.newMicro(len(x))
	m.addPoint(x, raw, t)
	c.mcs = append(c.mcs, m)
	c.cells = append(c.cells, k...)
	c.index[slot] = int32(len(c.mcs))
	if len(c.mcs) > c.spec.Max {
		c.level++
		c.regrid(c.spec.Max, true)
	} else if 2*len(c.mcs) > len(c.index) {
		c.regrid(c.spec.Max, false) // a bigger index, the same cells
	}
}

// width is the cell side at the state's level.
func (c *Clusters) width() float64 {
	w := math.Ldexp(c.spec.Cell, c.level/2)
	if c.level%2 == 1 {
		w *= math.Sqrt2
	}
	return w
}

// invWidth is 1/width(), kept for the level it was computed at: cellOf
// runs per event and a product costs a fraction of a division.
func (c *Clusters) invWidth() float64 {
	if c.invLevel != c.level+1 {
		c.inv, c.invLevel = 1/c.width(), c.level+1
	}
	return c.inv
}

// cellOf sets k to the cell of x at the state's level.
func (c *Clusters) cellOf(x []float64, k []int32) {
	if c.level >= maxLevel {
		clear(k)
		return
	}
	inv := c.invWidth()
	k = k[:len(x)]
	for i, v := range x {
		// floor(f) as the truncation less one for a negative fraction:
		// math.Floor is a call on amd64 (GOAMD64=v1), this is a
		// conversion and a compare. The same cell for every f
		// (TestCellOf).
		f := v * inv
		switch {
		case f >= math.MaxInt32:
			k[i] = math.MaxInt32
		case f <= math.MinInt32:
			k[i] = math.MinInt32
		default:
			t := int32(f)
			if float64(t) > f {
				t--
			}
			k[i] = t
		}
	}
}

// lookup returns the index slot of cell k and its micro-cluster, or -1
// and the empty slot where it goes.
func (c *Clusters) lookup(k []int32) (slot int, mc int) {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range k {
		h ^= uint64(uint32(v))
		h *= 0xff51afd7ed558ccd
		h ^= h >> 32
	}
	mask := len(c.index) - 1
	d := len(k)
	for s := int(h) & mask; ; s = (s + 1) & mask {
		e := int(c.index[s])
		if e == 0 {
			return s, -1
		}
		if slices.Equal(c.cells[(e-1)*d:e*d], k) {
			return s, e - 1
		}
	}
}

// regrid keys the micro-clusters at the state's level (their cells taken
// from their centroids when fromCentroids, else the stored ones), merges
// those sharing a cell into the first of them in order, and coarsens the
// grid until at most limit are left. Its result is a function of the
// micro-clusters, their order, cells and the level alone.
func (c *Clusters) regrid(limit int, fromCentroids bool) {
	for {
		if fromCentroids {
			c.keyCentroids()
		}
		c.index = c.buildIndex(c.index, true)
		if len(c.mcs) <= limit || c.level >= maxLevel {
			break
		}
		c.level++
		fromCentroids = true
	}
	c.keyed = true
}

// keyCentroids sets every micro-cluster's cell from its centroid.
func (c *Clusters) keyCentroids() {
	d := len(c.spec.Fields)
	c.cells = slices.Grow(c.cells[:0], len(c.mcs)*d)[:len(c.mcs)*d]
	for i, m := range c.mcs {
		c.cellOf(m.c, c.cells[i*d:(i+1)*d])
	}
}

// buildIndex indexes the cells in index (reused when large enough). With
// merge, micro-clusters sharing a cell merge into the first in order;
// without, the micro-clusters stay as they are and only the first of each
// cell is indexed (a count of the distinct cells: len of what merge would
// leave is their number, read with distinct).
func (c *Clusters) buildIndex(index []int32, merge bool) []int32 {
	size := 8
	for size < 2*(max(len(c.mcs), c.spec.Max)+1) {
		size *= 2
	}
	if cap(index) >= size {
		index = index[:size]
		clear(index)
	} else {
		index = make([]int32, size)
	}
	c.index = index
	d := len(c.spec.Fields)
	w := 0
	for i, m := range c.mcs {
		k := c.cells[i*d : (i+1)*d]
		slot, j := c.lookup(k)
		if j >= 0 {
			if merge {
				c.mcs[j].add(m)
			}
			continue
		}
		if !merge {
			c.index[slot] = int32(i + 1)
			w++
			continue
		}
		c.mcs[w] = m
		copy(c.cells[w*d:], k)
		w++
		c.index[slot] = int32(w)
	}
	if merge {
		clear(c.mcs[w:])
		c.mcs, c.cells = c.mcs[:w], c.cells[:w*d]
	}
	c.distinct = w
	return index
}

// Len is the number of micro-clusters.
func (c *Clusters) Len() int { return len(c.mcs) }

// Micro returns micro-cluster i (read only).
func (c *Clusters) Micro(i int) *MicroCluster { return c.mcs[i] }

// Count is the number of events in micro-clusters.
func (c *Clusters) Count() int64 {
	var n int64
	for _, m := range c.mcs {
		n += m.N
	}
	return n
}

// Total is the number of events counted, with or without features.
func (c *Clusters) Total() int64 { return c.Count() + c.Missing }

// Clone returns an independent copy.
func (c *Clusters) Clone() *Clusters {
	o := &Clusters{spec: c.spec, Base: c.Base, Missing: c.Missing, mcs: make([]*MicroCluster, len(c.mcs)),
		level: c.level, cells: slices.Clone(c.cells), keyed: c.keyed}
	for i, m := range c.mcs {
		o.mcs[i] = m.clone()
	}
	return o
}

// Merge adds o into c: the union of their micro-clusters, in a canonical
// order, and the sum of Missing. o's time sums are moved to c's Base; the
// union's grid is the finer one (Reduce and Add key it again from there, so
// that states of a small cap do not make a coarse union). A state of another spec is an error (it
// lives in another space); an empty c takes o's spec.
func (c *Clusters) Merge(o *Clusters) error {
	if o == nil || (len(o.mcs) == 0 && o.Missing == 0) {
		return nil
	}
	if len(c.mcs) == 0 && c.Missing == 0 {
		c.spec, c.Base, c.level = o.spec, o.Base, o.level
	} else if !c.spec.equal(o.spec) {
		return fmt.Errorf("merge clusters of fields %v (max %d) into fields %v (max %d)", o.spec.Fields, o.spec.Max, c.spec.Fields, c.spec.Max)
	} else {
		c.level = min(c.level, o.level)
	}
	c.Missing += o.Missing
	shift := float64(o.Base - c.Base)
	for _, m := range o.mcs {
		m = m.clone()
		m.shift(shift)
		c.mcs = append(c.mcs, m)
	}
	slices.SortFunc(c.mcs, compareMicro)
	c.cells, c.index, c.keyed = c.cells[:0], nil, false
	return nil
}

// Reduce merges micro-clusters until at most max are left: on the finest
// grid whose cells hold the centroids in at most max cells, those sharing
// a cell merge (the first in the canonical order takes the others). It is
// how hour and day states are built from many panes, in O(len) per level
// climbed; the climb starts at the finest grid whatever the inputs' (a
// union of states of a small cap keeps its detail).
func (c *Clusters) Reduce(max int) {
	if len(c.mcs) <= max {
		return
	}
	slices.SortFunc(c.mcs, compareMicro)
	for c.level = 0; c.level < maxLevel; c.level++ {
		if c.fewCells(max) {
			break
		}
	}
	c.regrid(max, true)
}

// fewCells reports whether the centroids lie in at most limit cells at the
// state's level: keyCentroids and buildIndex's count of distinct cells,
// stopped at the first cell past limit, so that a level far too fine (most
// of those Reduce climbs: a day's union is ~10,000 micro-clusters brought
// to 400) costs O(limit) rather than O(len).
func (c *Clusters) fewCells(limit int) bool {
	d := len(c.spec.Fields)
	c.cells = slices.Grow(c.cells[:0], len(c.mcs)*d)[:len(c.mcs)*d]
	size := 8
	for size < 2*(min(len(c.mcs), limit+1)+1) {
		size *= 2
	}
	if cap(c.index) >= size {
		c.index = c.index[:size]
		clear(c.index)
	} else {
		c.index = make([]int32, size)
	}
	w := 0
	for i, m := range c.mcs {
		k := c.cells[i*d : (i+1)*d]
		c.cellOf(m.c, k)
		slot, j := c.lookup(k)
		if j >= 0 {
			continue
		}
		if w++; w > limit {
			c.distinct = w
			return false
		}
		c.index[slot] = int32(i + 1)
	}
	c.distinct = w
	return true
}

// compareMicro orders micro-clusters by their sums, so that a union's
// order depends only on its members.
func compareMicro(a, b *MicroCluster) int {
	for i := range a.LS {
		if c := cmp.Compare(a.LS[i], b.LS[i]); c != 0 {
			return c
		}
	}
	if a.N != b.N {
		if a.N < b.N {
			return -1
		}
		return 1
	}
	for _, p := range [][2][]float64{{a.SS, b.SS}, {a.RS, b.RS}, {a.RSS, b.RSS}, {a.Min, b.Min}, {a.Max, b.Max}} {
		for i := range p[0] {
			if c := cmp.Compare(p[0][i], p[1][i]); c != 0 {
				return c
			}
		}
	}
	if c := cmp.Compare(a.LST, b.LST); c != 0 {
		return c
	}
	return cmp.Compare(a.SST, b.SST)
}

// microSlab is how many micro-clusters Add allocates at once: a pane
// starts hundreds of them (most merge away as the grid coarsens), and one
// allocation each was a fifth of the cost of an Add.
const microSlab = 32

// newMicro returns an empty micro-cluster of d features from the state's
// slab, refilled when empty.
func (c *Clusters) newMicro(d int) *MicroCluster {
	if len(c.slab) == 0 {
		c.slab = make([]MicroCluster, microSlab)
		c.slabF = make([]float64, microSlab*7*d)
	}
	m := &c.slab[0]
	f := c.slabF[: 7*d : 7*d]
	c.slab, c.slabF = c.slab[1:], c.slabF[7*d:]
	m.LS, m.SS, m.RS, m.RSS = f[:d:d], f[d:2*d:2*d], f[2*d:3*d:3*d], f[3*d:4*d:4*d]
	m.Min, m.Max, m.c = f[4*d:5*d:5*d], f[5*d:6*d:6*d], f[6*d:7*d:7*d]
	return m
}

func newMicro(d int) *MicroCluster {
	f := make([]float64, 7*d)
	return &MicroCluster{LS: f[:d:d], SS: f[d : 2*d : 2*d], RS: f[2*d : 3*d : 3*d], RSS: f[3*d : 4*d : 4*d],
		Min: f[4*d : 5*d : 5*d], Max: f[5*d : 6*d : 6*d], c: f[6*d : 7*d : 7*d]}
}

// newMicros returns n empty micro-clusters of d features in one block of
// structs and one of floats (a decoded state's; each keeps its own
// capacity, so none grows into its neighbour).
func newMicros(d, n int) []MicroCluster {
	ms := make([]MicroCluster, n)
	f := make([]float64, 7*d*n)
	for i := range ms {
		g := f[7*d*i : 7*d*(i+1) : 7*d*(i+1)]
		ms[i] = MicroCluster{LS: g[:d:d], SS: g[d : 2*d : 2*d], RS: g[2*d : 3*d : 3*d], RSS: g[3*d : 4*d : 4*d],
			Min: g[4*d : 5*d : 5*d], Max: g[5*d : 6*d : 6*d], c: g[6*d : 7*d : 7*d]}
	}
	return ms
}

func (m *MicroCluster) clone() *MicroCluster {
	o := newMicro(len(m.LS))
	m.copyTo(o)
	return o
}

// copyTo copies m into o, of as many features.
func (m *MicroCluster) copyTo(o *MicroCluster) {
	o.N, o.LST, o.SST = m.N, m.LST, m.SST
	copy(o.LS, m.LS)
	copy(o.SS, m.SS)
	copy(o.RS, m.RS)
	copy(o.RSS, m.RSS)
	copy(o.Min, m.Min)
	copy(o.Max, m.Max)
	copy(o.c, m.c)
}

func (m *MicroCluster) addPoint(x, raw []float64, t float64) {
	first := m.N == 0
	m.N++
	n := float64(m.N)
	d := len(x)
	// One bounds check per slice, not per feature.
	ls, ss, rs, rss, lo, hi, c, raw := m.LS[:d], m.SS[:d], m.RS[:d], m.RSS[:d], m.Min[:d], m.Max[:d], m.c[:d], raw[:d]
	for i, v := range x {
		ls[i] += v
		ss[i] += v * v
		r := raw[i]
		rs[i] += r
		rss[i] += r * r
		if first || r < lo[i] {
			lo[i] = r
		}
		if first || r > hi[i] {
			hi[i] = r
		}
		c[i] = ls[i] / n // centre()
	}
	m.LST += t
	m.SST += t * t
}

// add adds o's sums into m: CluStream's merge of two micro-clusters.
func (m *MicroCluster) add(o *MicroCluster) {
	for i := range m.LS {
		m.LS[i] += o.LS[i]
		m.SS[i] += o.SS[i]
		m.RS[i] += o.RS[i]
		m.RSS[i] += o.RSS[i]
		m.Min[i] = min(m.Min[i], o.Min[i])
		m.Max[i] = max(m.Max[i], o.Max[i])
	}
	m.N += o.N
	m.LST += o.LST
	m.SST += o.SST
	m.centre()
}

// shift moves the time sums by s seconds: sum(t+s) and sum((t+s)^2).
func (m *MicroCluster) shift(s float64) {
	if s == 0 {
		return
	}
	n := float64(m.N)
	m.SST += 2*s*m.LST + n*s*s
	m.LST += n * s
}

func (m *MicroCluster) centre() {
	n := float64(m.N)
	for i := range m.c {
		m.c[i] = m.LS[i] / n
	}
}

// Centroid is the mean of the transformed features (read only).
func (m *MicroCluster) Centroid() []float64 { return m.c }

// MeanTime is the mean event time of the micro-cluster's points.
func (c *Clusters) MeanTime(m *MicroCluster) time.Time {
	s := m.LST / float64(m.N)
	return time.Unix(c.Base, 0).Add(time.Duration(s * 1e9)).UTC()
}

func sqDist(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		d := v - b[i]
		s += d * d
	}
	return s
}

// mergeClusters merges o's clusters into p's. States of different specs
// cannot be merged (they live in different spaces): the larger one is
// kept, so that a reader after a change of --cluster-fields sees the
// newer data rather than a mixture.
func (p *Pane) mergeClusters(o *Pane) {
	if err := p.Clusters.Merge(o.Clusters); err != nil && o.Clusters.Total() > p.Clusters.Total() {
		p.Clusters = o.Clusters.Clone()
	}
}
