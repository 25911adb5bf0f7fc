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

// ViewSource is a Source that serves rules on further views, declared by
// the serving layer beside their answers (one line per view, keyed by the
// view's name in views.Registry): a view added there is measurable by
// rules with no change in this package.
type ViewSource interface {
	// RuleViews maps a view's name to what rules may measure in it.
	RuleViews() map[string]ViewRules
}

// ViewRules is what one view offers rules.
type ViewRules struct {
	// Measures are the measure names; the first is the default when
	// there is only one.
	Measures []string
	// Where are the label keys a rule may filter on (a value with *, ?
	// or [ is a glob), GroupBy those it may group by; Required must be
	// given in where.
	Where, GroupBy, Required []string
	// Worst are the measures that do not add up across groups
	// (quantiles): a sample over several groups is the largest.
	Worst []string
	// Groups returns the view's finest groups over [from, to): each a
	// Sample labelled with every Where key, valued by measure. The
	// engine filters and groups them as the rule says.
	Groups func(ctx context.Context, measure string, from, to time.Time) ([]Sample, error)
}

// withViews returns the engine's view specs plus extra's; the engine's
// own win on a clash.
func withViews(extra map[string]ViewRules) map[string]viewSpec {
	specs := make(map[string]viewSpec, len(viewSpecs)+len(extra))
	for name, vr := range extra {
		specs[name] = viewSpec{measures: vr.Measures, where: vr.Where, groupBy: vr.GroupBy, required: vr.Required, worst: vr.Worst}
	}
	for name, vs := range viewSpecs {
		specs[name] = vs
	}
	return specs
}

// ruleViews is src's ViewRules, or none.
func ruleViews(src Source) map[string]ViewRules {
	if vs, ok := src.(ViewSource); ok {
		return vs.RuleViews()
	}
	return nil
}

// Measurable maps every view a rule may use with src to its measures:
// the engine's own views and src's (ViewSource).
func Measurable(src Source) map[string][]string {
	out := map[string][]string{}
	for name, vs := range withViews(ruleViews(src)) {
		out[name] = vs.measures
	}
	return out
}
