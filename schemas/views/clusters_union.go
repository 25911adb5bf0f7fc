package views

import "slices"

// Union returns the union of states (those of spec's fields; others are
// skipped: they live in another space) reduced to at most max micro-clusters,
// with Base the first state's. It is Merge of every state then Reduce,
// in one sort instead of one per state: how serving bounds the
// micro-clusters a range's k-means reads, whatever the range.
func Union(spec *ClusterSpec, states []*Clusters, max int) *Clusters {
	out := &Clusters{spec: spec}
	usable := func(o *Clusters) bool {
		return o != nil && o.spec != nil && slices.Equal(spec.Fields, o.spec.Fields)
	}
	// The copies in one block (a range's union is thousands of
	// micro-clusters: one allocation each was a third of its cost).
	n := 0
	for _, o := range states {
		if usable(o) {
			n += len(o.mcs)
		}
	}
	block := newMicros(len(spec.Fields), n)
	out.mcs = make([]*MicroCluster, 0, n)
	first := true
	for _, o := range states {
		if !usable(o) {
			continue
		}
		if first {
			out.Base, first = o.Base, false
		}
		out.Missing += o.Missing
		shift := float64(o.Base - out.Base)
		for _, m := range o.mcs {
			c := &block[len(out.mcs)]
			m.copyTo(c)
			c.shift(shift)
			out.mcs = append(out.mcs, c)
		}
	}
	slices.SortFunc(out.mcs, compareMicro)
	out.Reduce(max)
	return out
}
