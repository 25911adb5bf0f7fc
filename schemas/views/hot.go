package views

import (
	"sort"
	"strings"
)

// Hot counts search terms. With a capacity it is a mergeable SpaceSaving
// summary: memory stays bounded and every estimate carries an error bound.
// Without one (capacity 0) it counts exactly, as batch does.
//
// Invariants, for every term t with true count n(t):
//
//	present: Count(t) - Err(t) <= n(t) <= Count(t)
//	absent:  n(t) <= Floor()
//
// Add and Merge keep them: a new term starts at Floor()+1 with error Floor();
// pruning drops the smallest terms and raises Floor to the largest dropped
// count; Merge sums counts, errors and floors. Pruning is lazy (the table may
// reach twice the capacity) so Add stays O(1) amortised.
type Hot struct {
	capacity int
	// counts holds each term's count and error through a pointer: an
	// assignment to a map's existing string key stores the new key, so
	// counting a held term by assigning would key it by the event's
	// string, a substring of a parsed line that it then keeps alive
	// (the line's copy, or speed's whole record batch: see Paths.stat).
	counts map[string]*termCount
	floor  int64
}

// termCount is one term's count and the most by which it may exceed the
// truth.
type termCount struct{ n, err int64 }

// countSlab hands out termCounts from blocks, for the operations that
// make many at once (Merge, MergeHot, Clone, decoding): one allocation a
// block instead of one a term.
type countSlab []termCount

func (s *countSlab) new(c termCount) *termCount {
	if len(*s) == 0 {
		*s = make([]termCount, 64)
	}
	e := &(*s)[0]
	*s = (*s)[1:]
	*e = c
	return e
}

// DefaultHotCapacity is the number of terms a speed pane keeps.
const DefaultHotCapacity = 1000

// NewHot returns an empty summary keeping about capacity terms, or exact
// counts when capacity is 0.
func NewHot(capacity int) *Hot {
	return &Hot{capacity: capacity, counts: map[string]*termCount{}}
}

// Capacity is the number of terms kept (0: exact).
func (h *Hot) Capacity() int { return h.capacity }

// Floor bounds the true count of any term not in the summary, and the
// overcount of any term in it. 0 means every count is exact.
func (h *Hot) Floor() int64 { return h.floor }

// Exact reports whether every count is exact.
func (h *Hot) Exact() bool { return h.floor == 0 }

// Len is the number of terms held.
func (h *Hot) Len() int { return len(h.counts) }

// Add counts one occurrence of term; empty terms are ignored.
func (h *Hot) Add(term string) { h.AddN(term, 1) }

// AddN counts n occurrences of term: one map lookup for a term held, the
// usual case; a new one is stored under a copy.
func (h *Hot) AddN(term string, n int64) {
	if term == "" || n <= 0 {
		return
	}
	if c := h.counts[term]; c != nil {
		c.n += n
		return
	}
	term = strings.Clone(term) // see Paths.stat
	h.counts[term] = &termCount{n: h.floor + n, err: h.floor}
	h.maybePrune()
}

// Merge adds o into h. o is not changed. The result keeps h's capacity,
// or o's if h is exact and o is not.
func (h *Hot) Merge(o *Hot) {
	if o == nil {
		return
	}
	if h.capacity == 0 && o.capacity > 0 {
		h.capacity = o.capacity
	}
	for t, c := range h.counts {
		if _, ok := o.counts[t]; !ok {
			c.n += o.floor
			c.err += o.floor
		}
	}
	var slab countSlab
	for t, oc := range o.counts {
		if c := h.counts[t]; c != nil {
			c.n += oc.n
			c.err += oc.err
		} else {
			h.counts[t] = slab.new(termCount{n: h.floor + oc.n, err: h.floor + oc.err})
		}
	}
	h.floor += o.floor
	h.maybePrune()
}

// Clone returns an independent copy.
func (h *Hot) Clone() *Hot {
	c := &Hot{capacity: h.capacity, counts: make(map[string]*termCount, len(h.counts)), floor: h.floor}
	slab := make(countSlab, len(h.counts))
	for t, tc := range h.counts {
		c.counts[t] = slab.new(*tc)
	}
	return c
}

// TermCount is one term with its estimated count and the most by which the
// estimate may exceed the truth (0 when exact).
type TermCount struct {
	Term  string `json:"term"`
	Count int64  `json:"count"`
	Err   int64  `json:"err,omitempty"`
}

// Top returns the k terms with the highest counts, ties by term, all terms
// when k <= 0.
func (h *Hot) Top(k int) []TermCount {
	out := make([]TermCount, 0, len(h.counts))
	for t, c := range h.counts {
		out = append(out, TermCount{Term: t, Count: c.n, Err: c.err})
	}
	sortTerms(out)
	if k > 0 && len(out) > k {
		out = out[:k]
	}
	return out
}

// Count returns the estimate and error bound of one term.
func (h *Hot) Count(term string) (count, err int64) {
	if c := h.counts[term]; c != nil {
		return c.n, c.err
	}
	return h.floor, h.floor
}

func sortTerms(ts []TermCount) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Count != ts[j].Count {
			return ts[i].Count > ts[j].Count
		}
		return ts[i].Term < ts[j].Term
	})
}

// maybePrune shrinks the table to capacity once it has doubled.
func (h *Hot) maybePrune() {
	if h.capacity == 0 || len(h.counts) <= 2*h.capacity {
		return
	}
	h.prune()
}

// prune keeps the capacity largest terms and raises the floor to the
// largest count dropped.
func (h *Hot) prune() {
	all := h.Top(0)
	for _, tc := range all[h.capacity:] {
		if tc.Count > h.floor {
			h.floor = tc.Count
		}
		delete(h.counts, tc.Term)
	}
}

// Compact prunes to capacity now, before storing, so stored summaries stay
// within their bound.
func (h *Hot) Compact() {
	if h.capacity > 0 && len(h.counts) > h.capacity {
		h.prune()
	}
}
