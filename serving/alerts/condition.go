package alerts

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
)

// hit is a sample whose condition holds, with what the annotations may
// quote about it.
type hit struct {
	Sample
	// Baseline conditions: the usual level, how many robust deviations
	// the value lies from it, and on how many past windows it rests.
	Median, Deviations float64
	History            int
	// New patterns: the pattern's template.
	Template string
}

// window is the range a rule measures at now: Window long, ending Delay
// before now. A threshold window ends at the end of the pane now falls in,
// so a burst counts as soon as speed has written it; a seasonal window ends
// at the last whole pane, so the compared windows are alike and complete.
func window(r *Rule, pane time.Duration, now time.Time) (from, to time.Time) {
	end := now.Add(-r.Delay)
	to = end.Truncate(pane)
	if r.Baseline == nil && to.Before(end) {
		to = to.Add(pane)
	}
	return to.Add(-r.Window), to
}

// outcome is one evaluation of a rule: the samples whose condition holds,
// how many samples it looked at, and what may make the answer incomplete.
type outcome struct {
	hits    []hit
	samples int
	warning string
	// all are every sample measured, holding or not: an alert that
	// resolves reports its group's value from them.
	all []Sample
}

// evaluate evaluates r at now.
func evaluate(ctx context.Context, src Source, r *Rule, now time.Time) (outcome, error) {
	from, to := window(r, src.Pane(), now)
	switch {
	case r.NewPattern != nil:
		return newPatterns(ctx, src, r, from, to)
	case r.Baseline != nil:
		hits, all, err := baseline(ctx, src, r, from, to)
		return outcome{hits: hits, samples: len(all), all: all}, err
	}
	samples, err := measure(ctx, src, r, from, to)
	if err != nil {
		return outcome{}, err
	}
	var hits []hit
	for _, s := range samples {
		if (r.Threshold.Above && s.Value > r.Threshold.Value) || (!r.Threshold.Above && s.Value < r.Threshold.Value) {
			hits = append(hits, hit{Sample: s})
		}
	}
	return outcome{hits: hits, samples: len(samples), all: samples}, nil
}

// madScale turns a median absolute deviation into an estimate of the
// standard deviation of normally distributed values.
const madScale = 1.4826

// baseline compares each group's value with the same window one period
// (a day, a week) before, Days times: the median of those past values is
// the usual level, the scaled MAD the usual spread. A past window without
// any events (the system was not running, or had no such group) is left
// out rather than counted as zero, so that an outage in the history does
// not lower the usual level.
func baseline(ctx context.Context, src Source, r *Rule, from, to time.Time) ([]hit, []Sample, error) {
	bl := r.Baseline
	now, err := measure(ctx, src, r, from, to)
	if err != nil {
		return nil, nil, err
	}
	current := map[string]Sample{}
	for _, s := range now {
		current[fingerprint(s.Labels)] = s
	}
	history := map[string][]float64{}
	for k := 1; k <= bl.Days; k++ {
		back := time.Duration(k) * bl.Every
		past, err := measure(ctx, src, r, from.Add(-back), to.Add(-back))
		if err != nil {
			return nil, nil, fmt.Errorf("baseline %d x %s back: %w", k, bl.Every, err)
		}
		for _, s := range past {
			if s.Value == 0 {
				continue
			}
			fp := fingerprint(s.Labels)
			history[fp] = append(history[fp], s.Value)
			if _, ok := current[fp]; !ok {
				// A group that had events then and has none now.
				current[fp] = Sample{Labels: s.Labels, Value: 0}
			}
		}
	}
	var hits []hit
	for fp, s := range current {
		h := history[fp]
		if len(h) < bl.MinHistory {
			continue
		}
		med := median(h)
		dev := make([]float64, len(h))
		for i, v := range h {
			dev[i] = math.Abs(v - med)
		}
		spread := math.Max(madScale*median(dev), math.Max(bl.MinSpread*med, 1))
		z := (s.Value - med) / spread
		holds := (bl.Direction == "below" && z <= -bl.Deviations) ||
			(bl.Direction == "above" && z >= bl.Deviations) ||
			(bl.Direction == "both" && math.Abs(z) >= bl.Deviations)
		if holds {
			hits = append(hits, hit{Sample: s, Median: med, Deviations: z, History: len(h)})
		}
	}
	sort.Slice(hits, func(i, j int) bool { return fingerprint(hits[i].Labels) < fingerprint(hits[j].Labels) })
	all := make([]Sample, 0, len(current))
	for _, s := range current {
		all = append(all, s)
	}
	return hits, all, nil
}

// median of xs (which it sorts).
func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// newPatterns finds the patterns of the window, at the rule's level, with
// at least MinCount lines, that the Lookback before the window never had.
// The source lists every pattern its states hold, so a new pattern is
// missed only when a state holding more patterns than the view keeps
// folded its lines into "(other)": when the window's folded lines could
// hide one of MinCount lines, the outcome says so.
func newPatterns(ctx context.Context, src Source, r *Rule, from, to time.Time) (outcome, error) {
	ps, ok := src.(PatternSource)
	if !ok {
		return outcome{}, fmt.Errorf("new_pattern: %w (it needs the patterns view in the query layer)", errNoView)
	}
	level := r.NewPattern.Level
	if level == "" {
		level = r.Where["level"]
	}
	cur, err := ps.PatternCounts(ctx, from, to, level, r.Where["instance"])
	if err != nil {
		return outcome{}, fmt.Errorf("patterns %s..%s: %w", fmtTime(from), fmtTime(to), err)
	}
	since := from.Add(-r.NewPattern.Lookback)
	old, err := ps.PatternCounts(ctx, since, from, level, r.Where["instance"])
	if err != nil {
		return outcome{}, fmt.Errorf("patterns %s..%s: %w", fmtTime(since), fmtTime(from), err)
	}
	// A pattern was seen when the lookback counted it, or counted a
	// pattern it later absorbed, or recorded it absorbed into another.
	seen := map[string]bool{}
	for _, p := range old.Patterns {
		seen[p.ID] = true
		if by, ok := cur.Absorbed[p.ID]; ok {
			seen[by] = true
		}
	}
	for id := range old.Absorbed {
		seen[id] = true
	}
	var o outcome
	var nearly int64 // the most lines of a new pattern below MinCount
	for _, p := range cur.Patterns {
		labels := map[string]string{"pattern": p.ID}
		if p.Level != "" {
			labels["level"] = p.Level
		}
		for k, v := range r.Where {
			labels[k] = v
		}
		s := Sample{Labels: labels, Value: float64(p.Count)}
		o.all = append(o.all, s)
		if seen[p.ID] {
			continue
		}
		if p.Count < r.NewPattern.MinCount {
			nearly = max(nearly, p.Count)
			continue
		}
		o.hits = append(o.hits, hit{Sample: s, Template: p.Template})
	}
	o.samples = len(cur.Patterns)
	if cur.Folded > 0 && nearly+cur.Folded >= r.NewPattern.MinCount {
		o.warning = fmt.Sprintf("%d lines of %s..%s were folded into (other) by states holding more patterns than the view keeps: a new pattern among them may be missed",
			cur.Folded, fmtTime(from), fmtTime(to))
	}
	return o, nil
}
