// Package views holds the view states of loglambda and their algebra. Every
// state is a commutative monoid: a zero value (or New*) is the identity, Add
// folds one event in, and Merge is associative and commutative. Speed keeps
// partial states per (pane, partition), batch produces the same types per
// pane, and serving merges them over any window. The algebra is written
// here once and used by every layer.
//
// Every view is declared once in Registry (pane.go), with its Spec: name,
// how batch counts it, identity, Add, Merge, Clone, codec and summary
// (registry.go); speed, batch and serving iterate it.
//
// Files: grid.go (the pane grid), registry.go (Spec), hot.go (search terms), traffic.go (PV,
// UV, IPs), levels.go ((instance, level) counts), patterns.go (log patterns;
// its doc states the absorption rule), pane.go (all views of one pane), codec.go (binary encoding for
// MongoDB). The MongoDB documents that carry the states are package
// collections'.
package views

// View names; they prefix collection names (speed_hot, batch_traffic) and
// document ids.
const (
	ViewHot     = "hot"
	ViewTraffic = "traffic"
	ViewLevels  = "levels"
	// ViewClusters is the CluStream micro-clusters (clusters.go).
	ViewClusters = "clusters"
	// ViewPatterns is the patterns view (Patterns).
	ViewPatterns = "patterns"
)
