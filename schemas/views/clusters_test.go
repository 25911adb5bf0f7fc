package views

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// clusterEvents draws n events from a few log-normal groups, with some
// events without features and some with an extra field.
func clusterEvents(seed uint64, n int, start time.Time) []event.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	groups := []struct{ lat, size float64 }{{3, 20000}, {80, 30000}, {250, 2000}, {40, 45000}, {5, 0}}
	evs := make([]event.Event, n)
	for i := range evs {
		ev := &evs[i]
		ev.Time = start.Add(time.Duration(i) * time.Minute / time.Duration(n))
		if r.Float64() < 0.1 {
			ev.Level = "INFO" // an application line: no features
			continue
		}
		g := groups[r.IntN(len(groups))]
		ev.LatencyMS = math.Round(g.lat*math.Exp(0.6*r.NormFloat64())*10) / 10
		if g.size > 0 {
			ev.Bytes = int64(g.size * math.Exp(0.4*r.NormFloat64()))
		}
		ev.Fields = map[string]string{"queue": strconv.Itoa(r.IntN(50))}
	}
	return evs
}

func buildClusters(t testing.TB, spec *ClusterSpec, start time.Time, evs []event.Event) *Clusters {
	t.Helper()
	c := NewClusters(spec, start)
	for i := range evs {
		c.Add(&evs[i])
	}
	return c
}

// checkGrid checks the grid's invariants against their definition: the
// cells are distinct, each micro-cluster's centroid lies in its cell at
// the state's level, and the index finds every cell.
func checkGrid(t *testing.T, c *Clusters) {
	t.Helper()
	if !c.keyed {
		return
	}
	d := len(c.spec.Fields)
	if len(c.cells) != d*len(c.mcs) {
		t.Fatalf("%d cell coordinates for %d micro-clusters of %d fields", len(c.cells), len(c.mcs), d)
	}
	w := c.spec.Cell * math.Pow(2, float64(c.level)/2)
	seen := map[string]bool{}
	for i, m := range c.mcs {
		k := c.cells[i*d : (i+1)*d]
		key := fmt.Sprint(k)
		if seen[key] {
			t.Fatalf("cell %v twice", k)
		}
		seen[key] = true
		for f, v := range m.Centroid() {
			if lo, hi := float64(k[f])*w, float64(k[f]+1)*w; v < lo-1e-9 || v > hi+1e-9 {
				t.Fatalf("micro-cluster %d: centroid %g outside its cell [%g, %g) at level %d", i, v, lo, hi, c.level)
			}
		}
		if c.index != nil {
			if _, j := c.lookup(k); j != i {
				t.Fatalf("index finds cell %v at %d, not %d", k, j, i)
			}
		}
	}
}

func TestClustersAdd(t *testing.T) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		fields string
		max    int
		n      int
	}{
		{"default", DefaultClusterFields, DefaultMicroClusters, 3000},
		{"small cap", DefaultClusterFields, 5, 2000},
		{"extra field", "latency_ms,bytes,queue", 50, 2000},
		{"one field", "bytes", 20, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := NewClusterSpec(tc.fields, tc.max, DefaultClusterCell)
			if err != nil {
				t.Fatal(err)
			}
			evs := clusterEvents(7, tc.n, start)
			c := NewClusters(spec, start)
			var with, without int64
			for i := range evs {
				c.Add(&evs[i])
				if i%97 == 0 {
					checkGrid(t, c)
				}
				ok := false
				for _, f := range spec.Fields {
					_, has := ClusterFeature(&evs[i], f)
					ok = ok || has
				}
				if ok {
					with++
				} else {
					without++
				}
			}
			checkGrid(t, c)
			if c.Len() > tc.max {
				t.Errorf("%d micro-clusters, cap %d", c.Len(), tc.max)
			}
			if c.Count() != with || c.Missing != without {
				t.Errorf("count %d missing %d, want %d and %d", c.Count(), c.Missing, with, without)
			}
			// Deterministic, and an encode/decode in the middle changes
			// nothing: the restart rule of speed.
			half := len(evs) / 2
			a := buildClusters(t, spec, start, evs[:half])
			b := roundTrip(t, a)
			for i := half; i < len(evs); i++ {
				b.Add(&evs[i])
			}
			want, _ := c.MarshalBinary()
			got, _ := b.MarshalBinary()
			if !bytes.Equal(want, got) {
				t.Errorf("encoded and continued state differs from the uninterrupted one")
			}
			// Stats: min and max hold every point.
			for _, m := range c.mcs {
				for f := range spec.Fields {
					mean := m.RS[f] / float64(m.N)
					if mean < m.Min[f]-1e-9 || mean > m.Max[f]+1e-9 {
						t.Fatalf("mean %g outside [%g, %g]", mean, m.Min[f], m.Max[f])
					}
				}
			}
		})
	}
}

func TestClustersMergeReduce(t *testing.T) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	spec := DefaultClusterSpec()
	var parts []*Clusters
	var total, missing int64
	for p := range 4 {
		c := buildClusters(t, spec, start.Add(time.Duration(p)*time.Minute), clusterEvents(uint64(p), 1500, start.Add(time.Duration(p)*time.Minute)))
		parts = append(parts, c)
		total += c.Count()
		missing += c.Missing
	}
	ab := NewClusters(spec, time.Unix(0, 0))
	ba := NewClusters(spec, time.Unix(0, 0))
	for i := range parts {
		if err := ab.Merge(parts[i]); err != nil {
			t.Fatal(err)
		}
		if err := ba.Merge(parts[len(parts)-1-i]); err != nil {
			t.Fatal(err)
		}
	}
	if ab.Count() != total || ab.Missing != missing {
		t.Fatalf("merged count %d missing %d, want %d %d", ab.Count(), ab.Missing, total, missing)
	}
	if ab.Len() != ba.Len() {
		t.Fatalf("merge order changes the union: %d vs %d", ab.Len(), ba.Len())
	}
	for i := range ab.mcs {
		if compareMicro(ab.mcs[i], ba.mcs[i]) != 0 && ab.mcs[i].N != ba.mcs[i].N {
			t.Fatalf("micro-cluster %d differs by merge order", i)
		}
	}
	// Mean times survive the time shift.
	for _, m := range parts[3].mcs {
		if got := parts[3].MeanTime(m); got.Before(start.Add(3*time.Minute)) || got.After(start.Add(4*time.Minute)) {
			t.Fatalf("mean time %s outside its pane", got)
		}
	}
	r := ab.Clone()
	r.Reduce(40)
	checkGrid(t, r)
	if r.Len() > 40 || r.Count() != total || r.Missing != missing {
		t.Fatalf("reduced: %d micro-clusters, count %d missing %d", r.Len(), r.Count(), r.Missing)
	}
	// States of a small cap sit on a coarse grid; their union is keyed
	// again from the finest level, so an hour of them keeps its detail.
	small, _ := NewClusterSpec(DefaultClusterFields, 4, DefaultClusterCell)
	union := NewClusters(small, start)
	var n int64
	for p := range 60 {
		at := start.Add(time.Duration(p) * time.Minute)
		s := buildClusters(t, small, at, clusterEvents(uint64(p), 300, at))
		if s.Len() > 4 {
			t.Fatalf("%d micro-clusters, cap 4", s.Len())
		}
		n += s.Count()
		if err := union.Merge(s); err != nil {
			t.Fatal(err)
		}
	}
	union.Reduce(40)
	checkGrid(t, union)
	if union.Len() < 10 || union.Len() > 40 || union.Count() != n {
		t.Fatalf("60 states of cap 4 reduced to %d micro-clusters (want 10..40) holding %d events, want %d", union.Len(), union.Count(), n)
	}
	other, _ := NewClusterSpec("bytes", 100, DefaultClusterCell)
	if err := ab.Merge(buildClusters(t, other, start, clusterEvents(1, 10, start))); err == nil {
		t.Fatal("merging states of other fields: no error")
	}
}

func TestClusterSpec(t *testing.T) {
	for _, tc := range []struct {
		fields string
		max    int
		b      float64
		ok     bool
	}{
		{"latency_ms,bytes", 100, 0.05, true},
		{"", 100, 0.05, true},
		{"a,a", 100, 0.05, false},
		{"a", 1, 0.05, false},
		{"a", 100, 1e-9, false},
		{"a", 100, 0, false},
		{"a", 100, math.NaN(), false},
	} {
		if _, err := NewClusterSpec(tc.fields, tc.max, tc.b); (err == nil) != tc.ok {
			t.Errorf("NewClusterSpec(%q, %d, %g): %v", tc.fields, tc.max, tc.b, err)
		}
	}
	var c Clusters
	if err := c.UnmarshalBinary([]byte{clustersVersion, 2, 1}); err == nil {
		t.Error("truncated state decoded")
	}
}

// TestClustersDecodePrefixes: a state decodes into its micro-clusters'
// block and encodes back to the same bytes; every prefix of it is refused
// (the micro-cluster count is checked against the bytes left before the
// block is allocated), never decoded nor a panic.
func TestClustersDecodePrefixes(t *testing.T) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	c := buildClusters(t, DefaultClusterSpec(), start, clusterEvents(3, 2000, start))
	if c.Len() < 2 {
		t.Fatalf("%d micro-clusters, want several", c.Len())
	}
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var d Clusters
	if err := d.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if d.Len() != c.Len() || d.Count() != c.Count() {
		t.Fatalf("decoded %d micro-clusters of %d events, want %d of %d", d.Len(), d.Count(), c.Len(), c.Count())
	}
	again, err := d.MarshalBinary()
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("decoded state encodes to other bytes (err %v)", err)
	}
	for n := range len(b) {
		var p Clusters
		if err := p.UnmarshalBinary(b[:n]); err == nil {
			t.Fatalf("prefix of %d of %d bytes decoded", n, len(b))
		}
	}
}

func TestFitMacro(t *testing.T) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	c := buildClusters(t, DefaultClusterSpec(), start, clusterEvents(3, 5000, start))
	a, sa := FitMacro(c.mcs, 5)
	b, sb := FitMacro(c.mcs, 5)
	if len(a) != 5 || sa != sb {
		t.Fatalf("%d centres, ssq %g vs %g", len(a), sa, sb)
	}
	for i := range a {
		for f := range a[i] {
			if a[i][f] != b[i][f] {
				t.Fatal("FitMacro is not deterministic")
			}
		}
	}
	one, s1 := FitMacro(c.mcs, 1)
	if len(one) != 1 || !(s1 > sa) {
		t.Fatalf("k=1 ssq %g not above k=5 ssq %g", s1, sa)
	}
}

// BenchmarkClustersAdd is the clusters view's cost per event: a pane of
// 6000 events (the demo's 100/s over one partition's minute... times
// four), at the default cap.
func BenchmarkClustersAdd(b *testing.B) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	evs := clusterEvents(9, 6000, start)
	spec := DefaultClusterSpec()
	c := NewClusters(spec, start)
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if i%len(evs) == 0 {
			c = NewClusters(spec, start)
		}
		c.Add(&evs[i%len(evs)])
		i++
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// The process's CPU time per event beside the wall time (ns/op): on a
	// shared machine the wall time holds the waits for a core, the CPU time
	// does not. The limit is 100 ns per event (issue 20).
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/event")
	b.ReportMetric(100, "limit-ns/event")
}

// cpuTime is the user and system CPU time used by the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLog1p holds the clusters' log1p to math.Log1p over the values
// features take (latencies of microseconds to hours, sizes of bytes to
// terabytes), at every mantissa bucket and its edges: within 1e-15
// relative, a billionth of the finest cell allowed.
func TestLog1p(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(x float64) {
		t.Helper()
		got, want := log1p(x), math.Log1p(x)
		if d := math.Abs(got - want); d > 1e-15*math.Max(1, want) {
			t.Fatalf("log1p(%g) = %.17g, math.Log1p %.17g (off by %g)", x, got, want, d)
		}
	}
	for _, x := range []float64{0, 0x1p-21, 0x1p-20, 1e-6, 0.1, 0.5, 1, 1.5, 2, 3, 1e3, 1e9, 1e18, 1e300, math.MaxFloat64} {
		check(x)
	}
	for e := -20; e < 60; e++ {
		for j := 0; j <= logTableSize; j++ {
			x := math.Ldexp(1+float64(j)/logTableSize, e) - 1
			for _, y := range []float64{x, math.Nextafter(x, 0), math.Nextafter(x, 2*x+1)} {
				if y >= 0 {
					check(y)
				}
			}
		}
	}
	for range 200_000 {
		check(math.Exp(r.Float64()*50 - 14))
	}
	if !math.IsNaN(log1p(math.NaN())) || !math.IsInf(log1p(math.Inf(1)), 1) {
		t.Fatal("log1p of NaN or +Inf is not math.Log1p's")
	}
}

// TestCellOf holds cellOf to the floor of v/width clamped to int32, as
// math.Floor gives it, at every level for values around cell edges, the
// int32 extremes, signed zeros and random values of every magnitude.
func TestCellOf(t *testing.T) {
	want := func(f float64) int32 {
		switch f = math.Floor(f); {
		case f >= math.MaxInt32:
			return math.MaxInt32
		case f <= math.MinInt32:
			return math.MinInt32
		}
		return int32(math.Floor(f))
	}
	r := rand.New(rand.NewPCG(3, 4))
	c := NewClusters(DefaultClusterSpec(), time.Unix(0, 0))
	for c.level = 0; c.level < maxLevel; c.level++ {
		inv := c.invWidth()
		vals := []float64{0, math.Copysign(0, -1), 1e-300, -1e-300, math.MaxFloat64, -math.MaxFloat64}
		for _, e := range []float64{math.MaxInt32, math.MinInt32, 0, 1, -1, 7, -7} {
			for _, d := range []float64{-1, -0.5, -1e-9, 0, 1e-9, 0.5, 1} {
				vals = append(vals, (e+d)/inv, math.Nextafter((e+d)/inv, math.Inf(1)), math.Nextafter((e+d)/inv, math.Inf(-1)))
			}
		}
		for range 2000 {
			vals = append(vals, (r.Float64()*2-1)*math.Pow(10, r.Float64()*24-12))
		}
		for _, v := range vals {
			var k [1]int32
			c.cellOf([]float64{v}, k[:])
			if w := want(v * inv); k[0] != w {
				t.Fatalf("level %d: cellOf(%g) = %d, want %d", c.level, v, k[0], w)
			}
		}
	}
}
