package views

import "slices"

// Union returns the union of states (those of spec's fields; others are
// skipped: they live in another space) reduced to at most max micro-clusters,
// with Base the first state's. It is Merge of every state then Reduce,
// in one sort instead of one per state: how serving bounds the
// micro-clusters a range's k-means reads, whatever the range.
func Union(spec *ClusterSpec, states []*Clusters, max int) *Clusters {
	out := &Clusters{spec: spec}
	first := true
	for _, o := range states {
		if o == nil || o.spec == nil || !slices.Equal(spec.Fields, o.spec.Fields) {
			continue
		}
		if first {
			out.Base, first = o.Base, false
		}
		out.Missing += o.Missing
		shift := float64(o.Base - out.Base)
		for _, m := range o.mcs {
			m = m.clone()
			m.shift(shift)
			out.mcs = append(out.mcs, m)
		}
	}
	slices.SortFunc(out.mcs, compareMicro)
	out.Reduce(max)
	return out
}
