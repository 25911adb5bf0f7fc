package serving

import (
	"math"
	"strconv"
	"time"

	"github.com/loglambda/loglambda/schemas/views"
)

// ClustersQuery asks for the macro-clusters of a range: the merged
// micro-clusters grouped into K by a weighted k-means, with each
// cluster's count per Step-wide bucket.
type ClustersQuery struct {
	Range
	// K is the number of macro-clusters, at most maxClustersK; 0 means
	// defaultClustersK.
	K int
	// Step is the bucket width: a positive multiple of the pane; 0 means
	// the pane.
	Step time.Duration
}

// Macro-cluster limits and the outlier rule.
const (
	defaultClustersK = 5
	maxClustersK     = 50
	// A micro-cluster is an outlier when it holds at most
	// max(outlierMinN, events/outlierShare) events and lies farther than
	// outlierRadii RMS radii from its nearest macro-cluster's centre.
	outlierMinN  = 2
	outlierShare = 1000
	outlierRadii = 3.0
	// maxMacroInput bounds the micro-clusters the k-means of an answer
	// reads: those of a day or an hour tier.
	maxMacroInput = views.TierMicroClusters
)

// MacroCluster is one macro-cluster over the range. Per feature, in the
// field's own units: Mean and Stddev of its events, Center (the centre in
// the clustering space mapped back: the typical value, which for sizes
// and latencies is near the median), Min and Max.
type MacroCluster struct {
	Count  int64
	Share  float64
	Mean   []float64
	Stddev []float64
	Center []float64
	Min    []float64
	Max    []float64
	// Series is the count per bucket, aligned with ClustersAnswer.Series.
	Series []int64
}

// ClustersPoint is one bucket: events per macro-cluster (Counts, in the
// order of ClustersAnswer.Clusters), outliers, and events without any
// feature.
type ClustersPoint struct {
	T        time.Time
	Counts   []int64
	Outliers int64
	Missing  int64
}

// ClustersAnswer is the answer to a ClustersQuery. Over the range, the
// cluster counts plus Outliers plus Missing add up to the events counted
// by the traffic view's PV.
type ClustersAnswer struct {
	// Frame.Exact is set when every pane came from batch (recomputed from
	// the lake, late events included).
	Frame
	K        int
	Fields   []string
	Clusters []MacroCluster
	Series   []ClustersPoint
	// Events with features (in clusters or outliers), outliers, events
	// without features.
	Events, Outliers, Missing int64
	// MicroClusters is how many micro-clusters the k-means grouped: the
	// coarsest states tiling the range.
	MicroClusters int
}

// Clusters answers the macro-clusters of the range. The k-means runs on
// the coarsest states that tile the range (days and hours of batch's
// pyramidal time frame, hour blocks of speed, then panes); each bucket's
// own states are then assigned to the nearest centre.
func (s *Server) Clusters(q ClustersQuery) (*ClustersAnswer, error) {
	a, _, err := s.clusters(q)
	return a, err
}

// clusters is Clusters with the cache entry holding the answer.
func (s *Server) clusters(q ClustersQuery) (*ClustersAnswer, *answerEntry, error) {
	k := q.K
	switch {
	case k == 0:
		k = defaultClustersK
	case k < 0:
		return nil, nil, badParam("k", fmtInt(k), "not a positive integer")
	case k > maxClustersK:
		return nil, nil, badParam("k", fmtInt(k), "larger than the allowed %d", maxClustersK)
	}
	ser, err := s.series(q.Range, q.Step)
	if err != nil {
		return nil, nil, err
	}
	key := ser.key("clusters")
	key.k = k
	return cachedAnswer(s, key, ser.sp.from, ser.sp.to, func(sn *snapshot) (*ClustersAnswer, error) {
		return clustersOf(ser.on(sn), k), nil
	})
}

// clustersOf computes the answer over ser, with k macro-clusters.
func clustersOf(ser series, k int) *ClustersAnswer {
	ans := &ClustersAnswer{Frame: ser.frame()}
	sn, pane := ser.sn, ser.pane
	var spec *views.ClusterSpec
	var mcs []*views.MicroCluster
	var events int64
	states := sn.clustersIn(nil, ser.sp.from, ser.sp.to, pane)
	for _, c := range states {
		if spec == nil && c.Total() > 0 {
			spec = c.Spec()
		}
		if spec == nil || !sameFields(spec, c.Spec()) {
			continue
		}
		for i := range c.Len() {
			mcs = append(mcs, c.Micro(i))
			events += c.Micro(i).N
		}
	}
	// The k-means reads at most maxMacroInput micro-clusters: over more
	// (a long range, or its edges' panes), their union reduced as batch
	// reduces an hour or a day, so its cost does not grow with the range.
	if len(mcs) > maxMacroInput {
		u := views.Union(spec, states, maxMacroInput)
		mcs = mcs[:0]
		for i := range u.Len() {
			mcs = append(mcs, u.Micro(i))
		}
	}
	ans.MicroClusters = len(mcs)
	if spec != nil {
		ans.Fields = spec.Fields
	}
	centres, _ := views.FitMacro(mcs, k)
	ans.K = len(centres)
	// The RMS radius of each macro-cluster, for the outlier rule.
	radius := make([]float64, len(centres))
	weight := make([]float64, len(centres))
	for _, m := range mcs {
		j, _ := views.NearestCentre(centres, m.Centroid())
		radius[j] += m.SSQTo(centres[j])
		weight[j] += float64(m.N)
	}
	for j := range radius {
		if weight[j] > 0 {
			radius[j] = math.Sqrt(radius[j] / weight[j])
		}
	}
	small := max(outlierMinN, events/outlierShare)
	d := len(ans.Fields)
	ans.Clusters = make([]MacroCluster, len(centres))
	sum := make([][]float64, len(centres)) // per cluster: RS then RSS
	for j := range ans.Clusters {
		mc := &ans.Clusters[j]
		mc.Mean, mc.Stddev, mc.Center = make([]float64, d), make([]float64, d), make([]float64, d)
		mc.Min, mc.Max = make([]float64, d), make([]float64, d)
		for f := range d {
			mc.Center[f] = views.Untransform(centres[j][f])
			mc.Min[f], mc.Max[f] = math.Inf(1), math.Inf(-1)
		}
		sum[j] = make([]float64, 2*d)
	}
	var buf []*views.Clusters
	for b, part := range ser.buckets {
		pt := ClustersPoint{T: time.Unix(b, 0).UTC(), Counts: make([]int64, len(centres))}
		buf = sn.clustersIn(buf[:0], part.from, part.to, pane)
		for _, c := range buf {
			pt.Missing += c.Missing
			if spec == nil || !sameFields(spec, c.Spec()) {
				continue
			}
			for i := range c.Len() {
				m := c.Micro(i)
				j, d2 := views.NearestCentre(centres, m.Centroid())
				if j < 0 || (m.N <= small && math.Sqrt(d2) > outlierRadii*radius[j]) {
					pt.Outliers += m.N
					continue
				}
				pt.Counts[j] += m.N
				mc := &ans.Clusters[j]
				for f := range d {
					sum[j][f] += m.RS[f]
					sum[j][d+f] += m.RSS[f]
					mc.Min[f] = min(mc.Min[f], m.Min[f])
					mc.Max[f] = max(mc.Max[f], m.Max[f])
				}
			}
		}
		for j, n := range pt.Counts {
			ans.Clusters[j].Count += n
			ans.Clusters[j].Series = append(ans.Clusters[j].Series, n)
			ans.Events += n
		}
		ans.Events += pt.Outliers
		ans.Outliers += pt.Outliers
		ans.Missing += pt.Missing
		ans.Series = append(ans.Series, pt)
	}
	for j := range ans.Clusters {
		mc := &ans.Clusters[j]
		if ans.Events > 0 {
			mc.Share = float64(mc.Count) / float64(ans.Events)
		}
		n := float64(mc.Count)
		for f := range d {
			if mc.Count == 0 {
				mc.Min[f], mc.Max[f] = 0, 0
				continue
			}
			mc.Mean[f] = sum[j][f] / n
			mc.Stddev[f] = math.Sqrt(max(sum[j][d+f]/n-mc.Mean[f]*mc.Mean[f], 0))
		}
	}
	return ans
}

// byField keys per-feature values v by field name, for the answer's
// encodings.
func (a *ClustersAnswer) byField(v []float64) map[string]float64 {
	m := make(map[string]float64, len(v))
	for i, f := range a.Fields {
		m[f] = v[i]
	}
	return m
}

func sameFields(a, b *views.ClusterSpec) bool {
	if len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i] != b.Fields[i] {
			return false
		}
	}
	return true
}

// clustersIn appends the clusters states tiling [from, to) (Unix seconds,
// pane aligned): the lambda merge of statesIn, whole UTC days taken from
// the layers' day blocks (batch's day tier before the horizon), whole
// quarters of complete hours from their quarter blocks.
func (sn *snapshot) clustersIn(out []*views.Clusters, from, to, pane int64) []*views.Clusters {
	h := int64(math.MinInt64)
	if !sn.horizon.IsZero() {
		h = sn.horizon.Unix()
	}
	for t := from; t < to; {
		l, batch := &sn.speed, t < h
		if batch {
			l = &sn.batch
		}
		if st := l.days[t]; st != nil && mod(t, daySeconds) == 0 && t+daySeconds <= to && (!batch || t+daySeconds <= h) {
			out = append(out, st.of(views.ViewClusters).Clusters)
			t += daySeconds
			continue
		}
		// An hour block without a clusters state (an hour still filling)
		// is read pane by pane.
		if st := l.hours[t]; st != nil && st.of(views.ViewClusters).Clusters != nil && mod(t, hourSeconds) == 0 && t+hourSeconds <= to && (!batch || t+hourSeconds <= h) {
			out = append(out, st.of(views.ViewClusters).Clusters)
			t += hourSeconds
			continue
		}
		if st := l.quarters[t]; st != nil && mod(t, quarterSeconds) == 0 && t+quarterSeconds <= to && (!batch || t+quarterSeconds <= h) {
			out = append(out, st.of(views.ViewClusters).Clusters)
			t += quarterSeconds
			continue
		}
		if st := l.panes[t]; st != nil {
			out = append(out, st.of(views.ViewClusters).Clusters)
		}
		t += pane
	}
	return out
}

func fmtInt(n int) string { return strconv.Itoa(n) }
