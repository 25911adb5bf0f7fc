package views

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// zipfTerms draws n terms from a Zipf distribution over vocab terms.
func zipfTerms(seed uint64, n, vocab int) []string {
	r := rand.New(rand.NewPCG(seed, 1))
	z := rand.NewZipf(r, 1.2, 1, uint64(vocab-1))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("term-%d", z.Uint64())
	}
	return out
}

func exactCounts(terms []string) map[string]int64 {
	m := map[string]int64{}
	for _, t := range terms {
		m[t]++
	}
	return m
}

// checkBounds asserts the SpaceSaving invariants of h against the truth.
func checkBounds(t *testing.T, h *Hot, truth map[string]int64) {
	t.Helper()
	for term, n := range truth {
		c, e := h.Count(term)
		if n > c || c-e > n {
			t.Fatalf("term %s: true %d outside [%d, %d]", term, n, c-e, c)
		}
	}
}

func TestHotBounds(t *testing.T) {
	for _, tc := range []struct {
		name            string
		n, vocab, capac int
	}{
		{"exact", 5000, 300, 0},
		{"fits", 5000, 50, 100},
		{"zipf-small-cap", 20000, 5000, 50},
		{"zipf-large-cap", 50000, 20000, 1000},
		{"uniform-ish", 20000, 100000, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			terms := zipfTerms(7, tc.n, tc.vocab)
			h := NewHot(tc.capac)
			for _, term := range terms {
				h.Add(term)
			}
			truth := exactCounts(terms)
			checkBounds(t, h, truth)
			if tc.capac == 0 && !h.Exact() {
				t.Fatalf("exact summary has floor %d", h.Floor())
			}
			if tc.capac > 0 && h.Len() > 2*tc.capac {
				t.Fatalf("holds %d terms, capacity %d", h.Len(), tc.capac)
			}
		})
	}
}

// TestHotMerge splits a stream over several summaries (as over partitions
// and panes), merges them in different orders and checks the bounds, and
// that exact summaries merge to exactly the whole stream's counts.
func TestHotMerge(t *testing.T) {
	terms := zipfTerms(11, 40000, 3000)
	truth := exactCounts(terms)
	for _, capac := range []int{0, 100} {
		parts := make([]*Hot, 5)
		for i := range parts {
			parts[i] = NewHot(capac)
		}
		for i, term := range terms {
			parts[i%len(parts)].Add(term)
		}
		fwd, rev := NewHot(capac), NewHot(capac)
		for i := range parts {
			fwd.Merge(parts[i])
			rev.Merge(parts[len(parts)-1-i])
		}
		checkBounds(t, fwd, truth)
		checkBounds(t, rev, truth)
		if capac == 0 {
			for term, n := range truth {
				if c, _ := fwd.Count(term); c != n {
					t.Fatalf("exact merge: %s = %d, want %d", term, c, n)
				}
			}
			if fmt.Sprint(fwd.Top(20)) != fmt.Sprint(rev.Top(20)) {
				t.Fatalf("merge order changed the exact top 20")
			}
		}
	}
}

func TestHotCodec(t *testing.T) {
	h := NewHot(50)
	for _, term := range zipfTerms(3, 10000, 2000) {
		h.Add(term)
	}
	h.Compact()
	g := roundTrip(t, h)
	if fmt.Sprint(g.Top(0)) != fmt.Sprint(h.Top(0)) || g.Floor() != h.Floor() || g.Capacity() != h.Capacity() {
		t.Fatalf("round trip changed the summary")
	}
	checkTruncated(t, g, mustEncode(t, h))
}
