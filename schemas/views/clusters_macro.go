package views

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Macro-clusters: CluStream's offline step. The micro-clusters of a range
// are points weighted by their counts; a weighted k-means (k-means++
// seeding, then Lloyd) groups them into k macro-clusters. The seeds are
// fixed, so the same micro-clusters give the same answer.

// macroRestarts is how many seedings FitMacro tries at most, keeping the
// one of the smallest sum of squares: one k-means++ seeding now and then
// lands two centres in one group. On the OpenStack access log (few, very
// unequal groups of near-identical points, 366 micro-clusters) 8 restarts
// ended 29 % above offline k-means' sum of squares, 30 within 6 %. Over
// many micro-clusters (a range of speed panes) each run costs more and
// matters less, so the restarts shrink to keep about macroBudget
// micro-cluster fits per query, never below macroMinRestarts.
const (
	macroRestarts    = 30
	macroMinRestarts = 3
	macroBudget      = 30000
)

// macroIterations bounds Lloyd's iterations; it converges in far fewer on
// weighted micro-clusters.
const macroIterations = 100

// FitMacro returns k macro-cluster centres (in the transformed space) of
// the micro-clusters, ordered by weight, largest first, and their sum of
// squared distances over the points the micro-clusters summarise (exact
// from the sums: within a micro-cluster plus its distance to the centre).
// Fewer than k distinct micro-clusters give fewer centres.
func FitMacro(mcs []*MicroCluster, k int) (centres [][]float64, ssq float64) {
	if len(mcs) == 0 || k <= 0 {
		return nil, 0
	}
	pts := slices.Clone(mcs)
	slices.SortFunc(pts, compareMicro)
	if k >= len(pts) {
		for _, m := range pts {
			centres = append(centres, slices.Clone(m.c))
		}
		return orderCentres(pts, centres), SSQ(pts, centres)
	}
	best := math.Inf(1)
	restarts := max(macroMinRestarts, min(macroRestarts, macroBudget/len(pts)))
	for r := range restarts {
		rng := rand.New(rand.NewPCG(uint64(r)+1, 0x5eed))
		c := lloyd(pts, seedPlusPlus(pts, k, rng))
		if s := SSQ(pts, c); s < best {
			best, centres = s, c
		}
	}
	return orderCentres(pts, centres), best
}

// seedPlusPlus is weighted k-means++: the first centre drawn by weight,
// each next one by weight times squared distance to the nearest centre.
func seedPlusPlus(pts []*MicroCluster, k int, rng *rand.Rand) [][]float64 {
	var total float64
	for _, m := range pts {
		total += float64(m.N)
	}
	pick := func(w func(i int) float64, sum float64) int {
		u := rng.Float64() * sum
		for i := range pts {
			u -= w(i)
			if u < 0 {
				return i
			}
		}
		return len(pts) - 1
	}
	first := pick(func(i int) float64 { return float64(pts[i].N) }, total)
	centres := [][]float64{slices.Clone(pts[first].c)}
	d2 := make([]float64, len(pts))
	for i, m := range pts {
		d2[i] = sqDist(m.c, centres[0])
	}
	for len(centres) < k {
		var sum float64
		for i, m := range pts {
			sum += float64(m.N) * d2[i]
		}
		if sum == 0 {
			break // every point sits on a centre
		}
		next := pick(func(i int) float64 { return float64(pts[i].N) * d2[i] }, sum)
		c := slices.Clone(pts[next].c)
		centres = append(centres, c)
		for i, m := range pts {
			d2[i] = min(d2[i], sqDist(m.c, c))
		}
	}
	return centres
}

// lloyd refines centres until no point changes its centre.
func lloyd(pts []*MicroCluster, centres [][]float64) [][]float64 {
	d := len(centres[0])
	assign := make([]int, len(pts))
	for i := range assign {
		assign[i] = -1
	}
	sums := make([]float64, len(centres)*d)
	w := make([]float64, len(centres))
	for range macroIterations {
		changed := false
		for i, m := range pts {
			if j, _ := NearestCentre(centres, m.c); j != assign[i] {
				assign[i], changed = j, true
			}
		}
		if !changed {
			break
		}
		clear(sums)
		clear(w)
		for i, m := range pts {
			j := assign[i]
			w[j] += float64(m.N)
			for f, v := range m.LS {
				sums[j*d+f] += v
			}
		}
		for j := range centres {
			if w[j] == 0 {
				continue // empty: keep the centre where it was
			}
			for f := range centres[j] {
				centres[j][f] = sums[j*d+f] / w[j]
			}
		}
	}
	return centres
}

// NearestCentre returns the index of the centre nearest to x and the
// squared distance (the first on ties).
func NearestCentre(centres [][]float64, x []float64) (int, float64) {
	best, bd := -1, math.Inf(1)
	for j, c := range centres {
		if d := sqDist(x, c); d < bd {
			best, bd = j, d
		}
	}
	return best, bd
}

// SSQ is the sum of squared distances of the points the micro-clusters
// summarise to their nearest centre, computed exactly from the sums:
// sum |x - C|^2 = SS - 2 C.LS + N |C|^2.
func SSQ(mcs []*MicroCluster, centres [][]float64) float64 {
	var s float64
	for _, m := range mcs {
		j, _ := NearestCentre(centres, m.c)
		s += m.SSQTo(centres[j])
	}
	return s
}

// SSQTo is the sum of squared distances of the micro-cluster's points to
// c.
func (m *MicroCluster) SSQTo(c []float64) float64 {
	var s float64
	n := float64(m.N)
	for f, v := range c {
		s += m.SS[f] - 2*v*m.LS[f] + n*v*v
	}
	return max(s, 0)
}

// orderCentres sorts centres by the weight they take, largest first (ties
// by position), so cluster 0 is the main shape of the traffic.
func orderCentres(pts []*MicroCluster, centres [][]float64) [][]float64 {
	w := make([]int64, len(centres))
	for _, m := range pts {
		j, _ := NearestCentre(centres, m.c)
		w[j] += m.N
	}
	idx := make([]int, len(centres))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case w[a] > w[b]:
			return -1
		case w[a] < w[b]:
			return 1
		}
		return 0
	})
	out := make([][]float64, len(centres))
	for i, j := range idx {
		out[i] = centres[j]
	}
	return out
}
