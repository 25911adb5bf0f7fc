package views

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/loglambda/loglambda/schemas/event"
)

// TestTopPaths: over states sharing some paths, TopPaths gives the k
// busiest paths and the number of paths of the whole merge (every state
// merged into NewMergePaths, then Stats), each path's figures and sketches
// equal, and so does TopPathsCounted with every, some or no state's
// Counts prepared; and a sketch merged from parts (the one-pass merge, many
// buckets, and the in-place one, few) equals the sketch of all values.
func TestTopPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 7))
	var states []*Paths
	var all Sketch
	for s := range 12 {
		p := NewPaths()
		n := 200 + r.IntN(800)
		if s%4 == 3 {
			n = 3 // few buckets: the in-place merge
		}
		for range n {
			lat := r.ExpFloat64() * 80
			p.Add(&event.Event{Path: fmt.Sprintf("/p/%d", r.IntN(300)), Bytes: int64(r.IntN(50000)), LatencyMS: lat})
		}
		states = append(states, p)
	}
	acc := NewMergePaths()
	for _, s := range states {
		acc.Merge(s)
	}
	want := acc.Stats()
	// Counted: every state's counts prepared, some (the panes of a
	// range's edges), none.
	all3 := make([]*PathCounts, len(states))
	some := make([]*PathCounts, len(states)-2)
	for i, s := range states {
		all3[i] = s.Counts()
		if i < len(some) && i%2 == 0 {
			some[i] = all3[i]
		}
	}
	for _, k := range []int{1, 10, 1000} {
		for name, counts := range map[string][]*PathCounts{"by path": nil, "all counted": all3, "some counted": some} {
			top, total := TopPathsCounted(states, counts, k)
			if total != len(want) || len(top) != min(k, len(want)) {
				t.Fatalf("%s, k %d: %d paths of %d, want %d of %d", name, k, len(top), total, min(k, len(want)), len(want))
			}
			for i, st := range top {
				w := want[i]
				if st.Path != w.Path || st.Count != w.Count || st.BytesSum != w.BytesSum ||
					!bytes.Equal(st.Bytes.append(nil), w.Bytes.append(nil)) || !bytes.Equal(st.Latency.append(nil), w.Latency.append(nil)) {
					t.Errorf("%s, k %d, rank %d: %s %d %d, merge gives %s %d %d (or sketches differ)", name, k, i, st.Path, st.Count, st.BytesSum, w.Path, w.Count, w.BytesSum)
				}
			}
		}
	}
	var merged Sketch
	for _, s := range states {
		for _, st := range s.paths {
			merged.Merge(&st.Latency)
			for j, i := range st.Latency.idx {
				all.addBucket(i, st.Latency.counts[j])
			}
			all.Zero += st.Latency.Zero
		}
	}
	if !bytes.Equal(merged.append(nil), all.append(nil)) {
		t.Error("a sketch merged from parts differs from the sketch of every bucket added")
	}
}

// TestSearchIndex holds the sketches' branchless search to
// slices.BinarySearch: the same position over sorted lists of 0-300
// distinct indexes (negative, positive, the int32 extremes) for every
// value in them, between them and beyond both ends.
func TestSearchIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := range 300 {
		seen := map[int32]bool{}
		var idx []int32
		for len(idx) < n {
			v := int32(r.IntN(2000) - 1000)
			switch r.IntN(50) {
			case 0:
				v = math.MaxInt32 - int32(r.IntN(3))
			case 1:
				v = math.MinInt32 + int32(r.IntN(3))
			}
			if !seen[v] {
				seen[v] = true
				idx = append(idx, v)
			}
		}
		slices.Sort(idx)
		probes := []int32{math.MinInt32, math.MaxInt32, -1001, 1001}
		for _, v := range idx {
			probes = append(probes, v, v-1, v+1)
		}
		for _, v := range probes {
			want, _ := slices.BinarySearch(idx, v)
			if got := searchIndex(idx, v); got != want {
				t.Fatalf("searchIndex(%v, %d) = %d, slices.BinarySearch %d", idx, v, got, want)
			}
		}
	}
}

// BenchmarkTopPaths: the top 15 of a day's range as serving tiles it, 23
// hour blocks of 3,000 zipf paths and 60 panes of 600 requests, counted by
// path (TopPaths) and from the blocks' Counts prepared before
// (TopPathsCounted), the answer TopPaths' (TestTopPaths).
func BenchmarkTopPaths(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 1, 2999)
	fill := func(p *Paths, n int) *Paths {
		for range n {
			p.Add(&event.Event{Path: fmt.Sprintf("/product/%d", z.Uint64()), Bytes: int64(r.IntN(50000)), LatencyMS: r.ExpFloat64() * 80})
		}
		return p
	}
	var states []*Paths
	var counts []*PathCounts
	for range 23 {
		h := NewMergePaths()
		for range 60 {
			h.Merge(fill(NewPaths(), 600))
		}
		states, counts = append(states, h), append(counts, h.Counts())
	}
	for range 60 {
		states, counts = append(states, fill(NewPaths(), 600)), append(counts, nil)
	}
	b.Run("by_path", func(b *testing.B) {
		for b.Loop() {
			TopPaths(states, 15)
		}
	})
	b.Run("counted", func(b *testing.B) {
		for b.Loop() {
			TopPathsCounted(states, counts, 15)
		}
	})
}
