package alerts

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/loglambda/loglambda/schemas/collections"
)

// Sample is one group's value of a rule's measure over a window.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// errNoView is the error of a rule whose view the Source does not serve.
var errNoView = errors.New("not served by this server")

// measure computes a rule's samples over [from, to): one per distinct
// group-by value present in the window, or exactly one without group-by.
// Every sample carries the rule's where filters as labels, so a
// notification says what was measured.
func measure(ctx context.Context, src Source, r *Rule, from, to time.Time) ([]Sample, error) {
	g := newGrouper(r)
	switch r.View {
	case "levels":
		counts, err := src.LevelCounts(ctx, from, to, exact(r.Where["instance"]))
		if err != nil {
			return nil, fmt.Errorf("levels %s..%s: %w", fmtTime(from), fmtTime(to), err)
		}
		for inst, per := range counts {
			if !matches(r.Where["instance"], inst) {
				continue
			}
			for level, n := range per {
				if !matches(r.Where["level"], level) {
					continue
				}
				g.add(map[string]string{"instance": inst, "level": level}, float64(n))
			}
		}
	case "traffic":
		pv, uv, ips, err := src.TrafficTotal(ctx, from, to)
		if err != nil {
			return nil, fmt.Errorf("traffic %s..%s: %w", fmtTime(from), fmtTime(to), err)
		}
		g.add(nil, float64(map[string]int64{"pv": pv, "uv": uv, "ips": ips}[r.Measure]))
	case "hot":
		n, err := src.HotTermCount(ctx, from, to, r.Where["term"])
		if err != nil {
			return nil, fmt.Errorf("hot %s..%s: %w", fmtTime(from), fmtTime(to), err)
		}
		g.add(nil, float64(n))
	case "patterns":
		ps, ok := src.(PatternSource)
		if !ok {
			return nil, fmt.Errorf("view patterns: %w (it needs the patterns view in the query layer)", errNoView)
		}
		set, err := ps.PatternCounts(ctx, from, to, exact(r.Where["level"]), exact(r.Where["instance"]))
		if err != nil {
			return nil, fmt.Errorf("patterns %s..%s: %w", fmtTime(from), fmtTime(to), err)
		}
		for _, p := range set.Patterns {
			if want := r.Where["pattern"]; want != "" && p.ID != want && !matches(want, p.Template) {
				continue
			}
			if !matches(r.Where["level"], p.Level) {
				continue
			}
			g.add(map[string]string{"pattern": p.ID, "level": p.Level}, float64(p.Count))
		}
	case "clusters":
		cs, ok := src.(ClusterSource)
		if !ok {
			return nil, fmt.Errorf("view clusters: %w (it needs the clusters view in the query layer)", errNoView)
		}
		shares, outliers, err := cs.ClusterShares(ctx, from, to)
		if err != nil {
			return nil, fmt.Errorf("clusters %s..%s: %w", fmtTime(from), fmtTime(to), err)
		}
		if r.Measure == "outliers" {
			g.add(nil, float64(outliers))
			break
		}
		for id, share := range shares {
			if !matches(r.Where["cluster"], id) {
				continue
			}
			g.add(map[string]string{"cluster": id}, share)
		}
	default:
		vr, ok := ruleViews(src)[r.View]
		if !ok {
			return nil, fmt.Errorf("view %q: %w", r.View, errNoView)
		}
		groups, err := vr.Groups(ctx, r.Measure, from, to)
		if err != nil {
			return nil, fmt.Errorf("%s %s..%s: %w", r.View, fmtTime(from), fmtTime(to), err)
		}
		g.worst = slices.Contains(vr.Worst, r.Measure)
		for _, s := range groups {
			if keeps(r.Where, s.Labels) {
				g.add(s.Labels, s.Value)
			}
		}
	}
	return g.samples(), nil
}

// matches reports whether a where value keeps v: empty keeps all; a
// value with *, ? or [ is a glob (path.Match: db-* keeps db-1 and db-2),
// any other must equal v.
func matches(pattern, v string) bool {
	if pattern == "" || pattern == v {
		return true
	}
	ok, err := path.Match(pattern, v)
	return err == nil && ok
}

// keeps reports whether every where value keeps its label.
func keeps(where, labels map[string]string) bool {
	for k, pattern := range where {
		if !matches(pattern, labels[k]) {
			return false
		}
	}
	return true
}

// exact is a where value a source can filter on itself: "" (all) when it
// is a glob, which the engine then matches.
func exact(pattern string) string {
	if strings.ContainsAny(pattern, "*?[") {
		return ""
	}
	return pattern
}

// grouper sums values by the rule's group-by keys.
type grouper struct {
	r      *Rule
	groups map[string]*Sample
	// worst takes the largest value of a group instead of the sum.
	worst bool
}

func newGrouper(r *Rule) *grouper {
	g := &grouper{r: r, groups: map[string]*Sample{}}
	if len(r.GroupBy) == 0 {
		// Without group-by there is always one sample, 0 when nothing
		// matched: "fewer than N" must be able to hold on silence.
		g.groups[""] = &Sample{Labels: g.labels(nil), Value: 0}
	}
	return g
}

func (g *grouper) labels(keys map[string]string) map[string]string {
	l := map[string]string{}
	for k, v := range g.r.Where {
		l[k] = v
	}
	for _, k := range g.r.GroupBy {
		l[k] = keys[k]
	}
	return l
}

func (g *grouper) add(keys map[string]string, v float64) {
	var id strings.Builder
	for _, k := range g.r.GroupBy {
		id.WriteString(keys[k])
		id.WriteByte(0)
	}
	s := g.groups[id.String()]
	if s == nil {
		s = &Sample{Labels: g.labels(keys)}
		g.groups[id.String()] = s
	}
	if g.worst {
		s.Value = max(s.Value, v)
		return
	}
	s.Value += v
}

func (g *grouper) samples() []Sample {
	out := make([]Sample, 0, len(g.groups))
	for _, s := range g.groups {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return fingerprint(out[i].Labels) < fingerprint(out[j].Labels) })
	return out
}

// fingerprint identifies a label set: Alertmanager's fingerprint
// (schemas/collections).
func fingerprint(labels map[string]string) string { return collections.Fingerprint(labels) }

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
