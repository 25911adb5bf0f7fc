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
// CluStream micro-clusters (Aggarwal, Han, Wang, Yu, VLDB 2003) of the
// events' numeric features. A feature is a numeric event field
// (ClusterSpec.Fields) under the fixed transform Transform (a signed
// log1p), so that states of all partitions and times live in one space.
//
// A micro-cluster is a feature vector of sums (MicroCluster): count,
// linear and squared sums per feature, linear and squared sums of time,
// plus min and max; two of them merge by addition. A state built by Add
// keeps at most Spec.Max micro-clusters: a point joins the nearest one when
// it lies within its boundary (Spec.Boundary times its RMS deviation; for
// a micro-cluster of one point, or of identical points, the distance to its
// nearest neighbour), else it starts one, and when that makes one too many
// the two closest micro-clusters merge. Nothing is dropped: the counts add
// up to the events with features, and Missing counts the others.
//
// Add is deterministic: the same events in the same order give the same
// state, bit for bit, also across an encode and decode (the order of the
// micro-clusters is kept, and the nearest-neighbour cache is a pure
// function of it), which is what speed's restart rule and batch's equality
// with speed rest on.
//
// Merge is the union of the micro-clusters (sorted, so it is commutative
// and associative up to float rounding of the time shift), with Missing
// added: the batch state of a pane is the union of the per-partition
// states, exactly what speed holds. Reduce merges closest pairs down to a
// cap: the pyramidal time frame's hour and day states.
type Clusters struct {
	spec *ClusterSpec
	// Base is the Unix second the time sums are relative to (the pane
	// start for a state built by Add), so that squared sums of time keep
	// their precision.
	Base int64
	// Missing counts events without any of the features.
	Missing int64
	mcs     []*MicroCluster
	// nn and nnd are the nearest neighbour of every micro-cluster (the
	// smallest index among ties) and its squared distance; valid when
	// nnOK. Rebuilt lazily after a decode or a merge.
	nn   []int
	nnd  []float64
	nnOK bool
	// moved lists the micro-clusters whose centroid moved since the cache
	// was last made exact: a point joining one does not update the cache
	// at once (O(len) each), only before the cache is next read, once per
	// micro-clusters moved (flushMoved).
	moved   []int
	isMoved []bool
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
// features, how many micro-clusters it keeps and how wide their
// boundary is. It travels in every encoded state, so that states built
// with another spec are refused by Merge rather than mixed.
type ClusterSpec struct {
	Fields   []string
	Max      int
	Boundary float64
}

// Cluster defaults, printed by --help through the commands' flags.
const (
	DefaultClusterFields = "latency_ms,bytes"
	DefaultMicroClusters = 100
	// DefaultClusterBoundary is CluStream's t: a point within t RMS
	// deviations of a micro-cluster's centroid joins it.
	DefaultClusterBoundary = 2.0
	// TierMicroClusters is the cap of the hour and day states: they hold
	// what 4 partitions' panes hold.
	TierMicroClusters = 400
	maxClusterFields  = 16
)

// NewClusterSpec parses a comma-separated field list and checks the
// settings. An empty list disables the view: Add then counts nothing.
func NewClusterSpec(fields string, max int, boundary float64) (*ClusterSpec, error) {
	s := &ClusterSpec{Max: max, Boundary: boundary}
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
	case !(boundary > 0) || math.IsInf(boundary, 0):
		return nil, fmt.Errorf("cluster boundary %g must be a positive number", boundary)
	}
	return s, nil
}

// DefaultClusterSpec is the spec of the defaults.
func DefaultClusterSpec() *ClusterSpec {
	s, _ := NewClusterSpec(DefaultClusterFields, DefaultMicroClusters, DefaultClusterBoundary)
	return s
}

func (s *ClusterSpec) equal(o *ClusterSpec) bool {
	return slices.Equal(s.Fields, o.Fields) && s.Max == o.Max && s.Boundary == o.Boundary
}

// NewClusters returns an empty state of spec whose time sums are relative
// to base.
func NewClusters(spec *ClusterSpec, base time.Time) *Clusters {
	return &Clusters{spec: spec, Base: base.Unix()}
}

// Spec is the state's spec.
func (c *Clusters) Spec() *ClusterSpec { return c.spec }

// Transform maps a raw feature value into the clustering space: a signed
// log1p, so that latencies and sizes spread over decades become comparable
// and a state's meaning never depends on the data it saw.
func Transform(x float64) float64 {
	if x < 0 {
		return -math.Log1p(-x)
	}
	return math.Log1p(x)
}

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
// bytes but a latency).
func (c *Clusters) features(ev *event.Event, raw []float64) bool {
	any := false
	for i, f := range c.spec.Fields {
		v, ok := ClusterFeature(ev, f)
		if !ok {
			v = 0
		}
		raw[i] = v
		any = any || ok
	}
	return any
}

// Add folds one event in. The caller (Pane.Add) leaves out parse errors.
func (c *Clusters) Add(ev *event.Event) {
	d := len(c.spec.Fields)
	if d == 0 {
		return
	}
	var buf [2 * maxClusterFields]float64
	raw, x := buf[:d], buf[d:2*d]
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

// addPoint is Add after the features were read.
func (c *Clusters) addPoint(x, raw []float64, t float64) {
	c.ensureNN()
	best, bd := -1, math.Inf(1)
	for i, m := range c.mcs {
		if d := sqDist(x, m.c); d < bd {
			best, bd = i, d
		}
	}
	if best >= 0 {
		if b := c.boundary(best); bd <= b*b {
			c.mcs[best].addPoint(x, raw, t)
			c.markMoved(best)
			return
		}
	}
	m := newMicro(len(x))
	m.addPoint(x, raw, t)
	c.insert(m)
	if len(c.mcs) > c.spec.Max {
		c.mergeClosest()
	}
}

// boundary is the radius within which a point joins micro-cluster i.
func (c *Clusters) boundary(i int) float64 {
	m := c.mcs[i]
	if m.N > 1 {
		if r := m.rms(); r > 0 {
			return c.spec.Boundary * r
		}
	}
	if len(c.mcs) < 2 {
		return 0
	}
	if len(c.moved) == 0 {
		return math.Sqrt(c.nnd[i])
	}
	// The same distance the flushed cache would hold, without flushing
	// every moved micro-cluster for one read.
	d := math.Inf(1)
	ci := c.mcs[i].c
	for k, m := range c.mcs {
		if k != i {
			d = min(d, sqDist(ci, m.c))
		}
	}
	return math.Sqrt(d)
}

// markMoved records that micro-cluster i's centroid moved.
func (c *Clusters) markMoved(i int) {
	if !c.isMoved[i] {
		c.isMoved[i] = true
		c.moved = append(c.moved, i)
	}
}

// flushMoved makes the cache exact again. The result does not depend on
// when it runs: each moved micro-cluster is checked against all others.
func (c *Clusters) flushMoved() {
	for _, i := range c.moved {
		c.isMoved[i] = false
		c.refresh(i)
	}
	c.moved = c.moved[:0]
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
	o := &Clusters{spec: c.spec, Base: c.Base, Missing: c.Missing, mcs: make([]*MicroCluster, len(c.mcs))}
	for i, m := range c.mcs {
		o.mcs[i] = m.clone()
	}
	return o
}

// Merge adds o into c: the union of their micro-clusters, in a canonical
// order, and the sum of Missing. o's time sums are moved to c's Base. A
// state of another spec is an error (it lives in another space); an empty
// c takes o's spec.
func (c *Clusters) Merge(o *Clusters) error {
	if o == nil || (len(o.mcs) == 0 && o.Missing == 0) {
		return nil
	}
	if len(c.mcs) == 0 && c.Missing == 0 {
		c.spec, c.Base = o.spec, o.Base
	} else if !c.spec.equal(o.spec) {
		return fmt.Errorf("merge clusters of fields %v (max %d) into fields %v (max %d)", o.spec.Fields, o.spec.Max, c.spec.Fields, c.spec.Max)
	}
	c.Missing += o.Missing
	shift := float64(o.Base - c.Base)
	for _, m := range o.mcs {
		m = m.clone()
		m.shift(shift)
		c.mcs = append(c.mcs, m)
	}
	slices.SortFunc(c.mcs, compareMicro)
	c.nnOK = false
	return nil
}

// Reduce merges micro-clusters until at most max are left: each one, in
// the canonical order, joins the nearest kept one within its boundary or
// is kept, and over max the two closest kept ones merge. It is how hour
// and day states are built from many panes, in O(len * max).
func (c *Clusters) Reduce(max int) {
	if len(c.mcs) <= max {
		return
	}
	all := c.mcs
	slices.SortFunc(all, compareMicro)
	c.mcs, c.nn, c.nnd, c.nnOK = nil, nil, nil, true
	c.moved, c.isMoved = c.moved[:0], nil
	for _, m := range all {
		best, bd := -1, math.Inf(1)
		for i, k := range c.mcs {
			if d := sqDist(m.c, k.c); d < bd {
				best, bd = i, d
			}
		}
		if best >= 0 {
			if b := c.boundary(best); bd <= b*b {
				c.mcs[best].add(m)
				c.markMoved(best)
				continue
			}
		}
		c.insert(m.clone())
		if len(c.mcs) > max {
			c.mergeClosest()
		}
	}
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

func newMicro(d int) *MicroCluster {
	f := make([]float64, 7*d)
	return &MicroCluster{LS: f[:d:d], SS: f[d : 2*d : 2*d], RS: f[2*d : 3*d : 3*d], RSS: f[3*d : 4*d : 4*d],
		Min: f[4*d : 5*d : 5*d], Max: f[5*d : 6*d : 6*d], c: f[6*d : 7*d : 7*d]}
}

func (m *MicroCluster) clone() *MicroCluster {
	o := newMicro(len(m.LS))
	o.N, o.LST, o.SST = m.N, m.LST, m.SST
	copy(o.LS, m.LS)
	copy(o.SS, m.SS)
	copy(o.RS, m.RS)
	copy(o.RSS, m.RSS)
	copy(o.Min, m.Min)
	copy(o.Max, m.Max)
	copy(o.c, m.c)
	return o
}

func (m *MicroCluster) addPoint(x, raw []float64, t float64) {
	first := m.N == 0
	m.N++
	for i, v := range x {
		m.LS[i] += v
		m.SS[i] += v * v
		r := raw[i]
		m.RS[i] += r
		m.RSS[i] += r * r
		if first || r < m.Min[i] {
			m.Min[i] = r
		}
		if first || r > m.Max[i] {
			m.Max[i] = r
		}
	}
	m.LST += t
	m.SST += t * t
	m.centre()
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

// rms is the root mean squared distance of the points from the centroid.
func (m *MicroCluster) rms() float64 {
	n := float64(m.N)
	var v float64
	for i := range m.LS {
		v += max(m.SS[i]/n-m.c[i]*m.c[i], 0)
	}
	return math.Sqrt(v)
}

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

// The nearest-neighbour cache. nn[i] is the smallest index k != i with the
// smallest distance to i; every operation keeps exactly that, so the cache
// after any sequence of operations equals a rebuild from scratch (which a
// decode does), and a restart continues as the run it replaces would have.

func (c *Clusters) ensureNN() {
	if c.nnOK {
		return
	}
	c.nn = make([]int, len(c.mcs), max(len(c.mcs), c.spec.Max+1))
	c.nnd = make([]float64, len(c.mcs), max(len(c.mcs), c.spec.Max+1))
	c.isMoved = make([]bool, len(c.mcs), cap(c.nn))
	c.moved = c.moved[:0]
	for i := range c.mcs {
		c.recomputeNN(i)
	}
	c.nnOK = true
}

// recomputeNN sets nn[i] from scratch.
func (c *Clusters) recomputeNN(i int) {
	best, bd := -1, math.Inf(1)
	ci := c.mcs[i].c
	for k, m := range c.mcs {
		if k == i {
			continue
		}
		if d := sqDist(ci, m.c); d < bd {
			best, bd = k, d
		}
	}
	c.nn[i], c.nnd[i] = best, bd
}

// better reports whether candidate k at distance d beats i's current
// nearest neighbour.
func (c *Clusters) better(i, k int, d float64) bool {
	return d < c.nnd[i] || (d == c.nnd[i] && k < c.nn[i])
}

// insert appends m and updates the cache.
func (c *Clusters) insert(m *MicroCluster) {
	j := len(c.mcs)
	c.mcs = append(c.mcs, m)
	c.nn = append(c.nn, -1)
	c.nnd = append(c.nnd, math.Inf(1))
	c.isMoved = append(c.isMoved, false)
	for k := 0; k < j; k++ {
		d := sqDist(c.mcs[k].c, m.c)
		if c.better(k, j, d) {
			c.nn[k], c.nnd[k] = j, d
		}
		if c.better(j, k, d) {
			c.nn[j], c.nnd[j] = k, d
		}
	}
}

// refresh updates the cache after micro-cluster i's centroid changed.
func (c *Clusters) refresh(i int) {
	var stale []int
	ci := c.mcs[i].c
	c.nn[i], c.nnd[i] = -1, math.Inf(1)
	for k, m := range c.mcs {
		if k == i {
			continue
		}
		d := sqDist(ci, m.c)
		if c.better(i, k, d) {
			c.nn[i], c.nnd[i] = k, d
		}
		switch {
		case c.nn[k] == i && d <= c.nnd[k]:
			c.nnd[k] = d
		case c.nn[k] == i:
			stale = append(stale, k)
		case c.better(k, i, d):
			c.nn[k], c.nnd[k] = i, d
		}
	}
	for _, k := range stale {
		c.recomputeNN(k)
	}
}

// mergeClosest merges the closest pair (the smallest nnd, first index on
// ties) into its lower index and removes the other.
func (c *Clusters) mergeClosest() {
	c.flushMoved()
	a := 0
	for i := range c.mcs {
		if c.nnd[i] < c.nnd[a] {
			a = i
		}
	}
	b := c.nn[a]
	if b < a {
		a, b = b, a
	}
	c.mcs[a].add(c.mcs[b])
	c.remove(b)
	c.refresh(a)
}

// remove deletes micro-cluster j, moving the last one into its place.
func (c *Clusters) remove(j int) {
	last := len(c.mcs) - 1
	c.mcs[j] = c.mcs[last]
	c.nn[j], c.nnd[j] = c.nn[last], c.nnd[last]
	c.mcs, c.nn, c.nnd, c.isMoved = c.mcs[:last], c.nn[:last], c.nnd[:last], c.isMoved[:last]
	var stale []int
	for k := range c.mcs {
		switch c.nn[k] {
		case j:
			stale = append(stale, k)
			continue
		case last:
			c.nn[k] = j
		}
		if j < last && k != j {
			// The moved one has a smaller index now: it wins ties it lost.
			if d := sqDist(c.mcs[k].c, c.mcs[j].c); c.better(k, j, d) {
				c.nn[k], c.nnd[k] = j, d
			}
		}
	}
	if j < last {
		c.recomputeNN(j)
	}
	for _, k := range stale {
		if k != j {
			c.recomputeNN(k)
		}
	}
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
