package views

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMergeHot merges summaries built from known streams and checks the
// result against the true counts: exact inputs give exact counts, bounded
// ones keep the SpaceSaving invariants with the error bound.
func TestMergeHot(t *testing.T) {
	cases := []struct {
		name     string
		capacity int
		parts    int
		terms    int
	}{
		{"exact", 0, 5, 50},
		{"bounded, few terms", 20, 4, 15},
		{"bounded, many terms", 10, 8, 200},
		{"single input", 10, 1, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			zipf := rand.NewZipf(r, 1.2, 1, uint64(c.terms-1))
			truth := map[string]int64{}
			var hs []*Hot
			for p := 0; p < c.parts; p++ {
				h := NewHot(c.capacity)
				for i := 0; i < 500; i++ {
					term := fmt.Sprintf("t%d", zipf.Uint64())
					h.Add(term)
					truth[term]++
				}
				h.Compact()
				hs = append(hs, h)
			}
			hs = append(hs, nil)
			got := MergeHot(hs...)
			if got.Capacity() != c.capacity {
				t.Errorf("capacity %d, want %d", got.Capacity(), c.capacity)
			}
			if c.capacity > 0 && got.Len() > c.capacity {
				t.Errorf("%d terms above capacity %d", got.Len(), c.capacity)
			}
			for term, n := range truth {
				cnt, e := got.Count(term)
				if c.capacity == 0 && (cnt != n || e != 0) {
					t.Errorf("exact: %s = %d err %d, want %d", term, cnt, e, n)
				}
				if n > cnt || n < cnt-e {
					t.Errorf("%s: true %d outside [%d-%d, %d]", term, n, cnt, e, cnt)
				}
			}
			var floors int64
			for _, h := range hs {
				if h != nil {
					floors += h.Floor()
				}
			}
			if got.Floor() < floors {
				t.Errorf("floor %d below the sum of the inputs' floors %d", got.Floor(), floors)
			}
		})
	}
}
