package views

import (
	"slices"
	"testing"
	"time"
)

// TestUnion checks Union against Merge of every state then Reduce, the
// rule it stands for: the same micro-clusters, counts and missing events,
// and a state of other fields left out.
func TestUnion(t *testing.T) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	spec := DefaultClusterSpec()
	var parts []*Clusters
	for p := range 6 {
		at := start.Add(time.Duration(p) * time.Minute)
		parts = append(parts, buildClusters(t, spec, at, clusterEvents(uint64(10+p), 1200, at)))
	}
	other, _ := NewClusterSpec("bytes", 100, 2)
	withOther := append(append([]*Clusters{}, parts...), buildClusters(t, other, start, clusterEvents(1, 50, start)), nil)
	for _, max := range []int{30, 100, 10000} {
		want := parts[0].Clone()
		for _, p := range parts[1:] {
			if err := want.Merge(p); err != nil {
				t.Fatal(err)
			}
		}
		want.Reduce(max)
		got := Union(spec, withOther, max)
		if got.Len() != want.Len() || got.Count() != want.Count() || got.Missing != want.Missing || got.Base != want.Base {
			t.Fatalf("max %d: union %d micro-clusters (%d events, %d missing), merge and reduce %d (%d, %d)",
				max, got.Len(), got.Count(), got.Missing, want.Len(), want.Count(), want.Missing)
		}
		for i := range got.mcs {
			if compareMicro(got.mcs[i], want.mcs[i]) != 0 {
				t.Fatalf("max %d: micro-cluster %d differs", max, i)
			}
		}
	}
}

// BenchmarkUnion is the union serving's clusters answer makes over a day:
// 24 hour states of TierMicroClusters each, reduced to as many. allocs/op
// and B/op do not depend on the machine's load.
//
//	go test ./schemas/views -run '^$' -bench Union -benchmem
func BenchmarkUnion(b *testing.B) {
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	spec := DefaultClusterSpec()
	var hours []*Clusters
	for h := range 24 {
		at := start.Add(time.Duration(h) * time.Hour)
		var panes []*Pane
		for p := range 6 {
			pt := at.Add(time.Duration(p) * 10 * time.Minute)
			panes = append(panes, &Pane{Clusters: buildClusters(b, spec, pt, clusterEvents(uint64(100*h+p), 2000, pt))})
		}
		hours = append(hours, BlockOf(at, panes, ViewClusters).Clusters)
	}
	for b.Loop() {
		Union(spec, hours, TierMicroClusters)
	}
}

// TestReduceLevel checks that Reduce settles on the level a full count of
// distinct cells at every level finds (fewCells stops counting early):
// the finest whose cells hold the centroids in at most max cells.
func TestReduceLevel(t *testing.T) {
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	spec := DefaultClusterSpec()
	var parts []*Clusters
	for p := range 12 {
		at := start.Add(time.Duration(p) * 10 * time.Minute)
		parts = append(parts, buildClusters(t, spec, at, clusterEvents(uint64(50+p), 1500, at)))
	}
	u := Union(spec, parts, 1<<30)
	for _, max := range []int{1, 10, 30, 100, 400, u.Len() - 1} {
		ref := u.Clone()
		slices.SortFunc(ref.mcs, compareMicro)
		for ref.level = 0; ref.level < maxLevel; ref.level++ {
			ref.keyCentroids()
			ref.index = ref.buildIndex(ref.index, false)
			if ref.distinct <= max {
				break
			}
		}
		got := u.Clone()
		got.Reduce(max)
		if got.Level() != ref.level || got.Len() > max {
			t.Errorf("max %d of %d: level %d (%d left), a full count per level finds %d", max, u.Len(), got.Level(), got.Len(), ref.level)
		}
	}
}
