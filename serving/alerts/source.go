package alerts

import (
	"context"
	"time"
)

// Source is the seam onto the serving layer: the merged query results
// HTTP and gRPC answer from (batch before the horizon, speed after it), so
// a rule sees what the API sees. serving.Server implements it; ranges are
// [from, to) and pane aligned by the engine.
type Source interface {
	// Pane is the width of a pane, the grid every window is aligned to.
	Pane() time.Duration
	// LevelCounts is instance -> level -> events, as GET /v1/levels'
	// total; instance, when not empty, keeps only that instance.
	LevelCounts(ctx context.Context, from, to time.Time, instance string) (map[string]map[string]int64, error)
	// TrafficTotal is GET /v1/traffic's total: page views, unique
	// visitors and distinct IPs.
	TrafficTotal(ctx context.Context, from, to time.Time) (pv, uv, ips int64, err error)
	// HotTermCount is a search term's count as the hot view holds it (an
	// overestimate by at most the answer's error bound after the horizon).
	HotTermCount(ctx context.Context, from, to time.Time, term string) (int64, error)
}

// PatternCount is one log pattern of a range.
type PatternCount struct {
	ID       string
	Template string
	Level    string
	Count    int64
}

// PatternSet is the patterns of a range.
type PatternSet struct {
	// Patterns are every pattern a state of the range holds, with its
	// lines in the range.
	Patterns []PatternCount
	// Folded is the range's lines that states holding more patterns than
	// the view keeps folded into "(other)": a pattern whose lines are all
	// there is not listed, one with some there is undercounted.
	Folded int64
	// Absorbed maps the id of a pattern absorbed by a wider one, as the
	// range's miners recorded it, to the id counting its lines now.
	Absorbed map[string]string
}

// PatternSource is a Source that also serves the patterns view (GET
// /v1/patterns). Rules on view patterns, and new_pattern conditions, need
// it; on a Source without it they evaluate to an error.
type PatternSource interface {
	// PatternCounts lists the patterns of a range with their counts, at
	// level and of instance when not empty: every pattern, not a top K,
	// since a new pattern is by nature a rare one.
	PatternCounts(ctx context.Context, from, to time.Time, level, instance string) (*PatternSet, error)
}

// ClusterSource is a Source that also serves the clusters view (GET
// /v1/clusters). Rules on view clusters need it.
type ClusterSource interface {
	// ClusterShares is each macro-cluster's share of the range's events
	// (cluster id -> 0..1) and the number of outlier events.
	ClusterShares(ctx context.Context, from, to time.Time) (shares map[string]float64, outliers int64, err error)
}
