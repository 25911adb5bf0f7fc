package views

// MergeHot returns the merge of many summaries in one pass, pruned once at
// the end; the inputs are not changed. Merging them pairwise with Merge
// prunes (a sort of the whole table) every time the table doubles, which
// dominates a query over a day of panes; merging all at once is linear in
// the entries, and nothing is dropped before every count is known.
//
// The result keeps the largest capacity among the inputs (0, exact, only if
// all are exact). Its invariants are those of Merge: for each term the
// count sums the inputs' counts, taking an input's floor where the term is
// absent from it, the error sums errors the same way, and the floor is the
// sum of floors, raised by the final prune to the largest count dropped.
func MergeHot(hs ...*Hot) *Hot {
	capacity, n := 0, 0
	var floor int64
	for _, h := range hs {
		if h == nil {
			continue
		}
		capacity = max(capacity, h.capacity)
		floor += h.floor
		n = max(n, len(h.counts))
	}
	out := NewHot(capacity)
	out.counts = make(map[string]*termCount, 2*n)
	slab := make(countSlab, n)
	// Accumulate, per term, how far each input that holds it is above
	// that input's floor; the floors of all inputs are added at the end.
	for _, h := range hs {
		if h == nil {
			continue
		}
		for t, c := range h.counts {
			oc := out.counts[t]
			if oc == nil {
				oc = slab.new(termCount{})
				out.counts[t] = oc
			}
			oc.n += c.n - h.floor
			oc.err += c.err - h.floor
		}
	}
	for _, c := range out.counts {
		c.n += floor
		c.err = max(c.err+floor, 0)
	}
	out.floor = floor
	out.Compact()
	return out
}
