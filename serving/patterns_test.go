package serving

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
)

type patternResp struct {
	Pattern, Template string
	Count, Previous   int64
	Share             float64
	ChangePct         *float64 `json:"change_pct"`
	New, Gone         bool
	FirstSeen         string `json:"first_seen"`
	LastSeen          string `json:"last_seen"`
	Example           struct {
		Line      string
		Partition int32
		Offset    int64
	}
	Series []int64
}

type patternsResp struct {
	From, To, Step string
	Steps          []string
	Total          int64
	PreviousTotal  int64 `json:"previous_total"`
	Patterns, Gone []patternResp
	BatchHorizon   *string `json:"batch_horizon"`
	Exact          bool
}

// patternTruth is template -> count of the events in [from, to) that
// pass the filters, from the templates the fixture wrote beside them.
func patternTruth(evs []event.Event, from, to time.Time, level, instance string) map[string]int64 {
	out := map[string]int64{}
	eachPatternEvent(evs, from, to, level, instance, func(ev *event.Event) { out[ev.Fields["template"]]++ })
	return out
}

// patternSeen is template -> the first and last event times of the
// events patternTruth counts, as the API writes them.
func patternSeen(evs []event.Event, from, to time.Time, level, instance string) map[string][2]string {
	first, last := map[string]time.Time{}, map[string]time.Time{}
	eachPatternEvent(evs, from, to, level, instance, func(ev *event.Event) {
		k := ev.Fields["template"]
		if f, ok := first[k]; !ok || ev.Time.Before(f) {
			first[k] = ev.Time
		}
		if ev.Time.After(last[k]) {
			last[k] = ev.Time
		}
	})
	out := map[string][2]string{}
	for k := range first {
		out[k] = [2]string{first[k].UTC().Format(time.RFC3339), last[k].UTC().Format(time.RFC3339)}
	}
	return out
}

// eachPatternEvent calls f for each event of evs in [from, to) that passes
// the filters.
func eachPatternEvent(evs []event.Event, from, to time.Time, level, instance string, f func(*event.Event)) {
	for i := range evs {
		ev := &evs[i]
		if ev.Time.Before(from) || !ev.Time.Before(to) {
			continue
		}
		inst, lvl := countedAs(ev)
		if (level != "" && lvl != level) || (instance != "" && inst != instance) {
			continue
		}
		f(ev)
	}
}

func testPatterns(t *testing.T, sc *scenario) {
	truth := func(f, to time.Time, level, instance string) map[string]int64 {
		m := patternTruth(sc.batch, f, to, level, instance)
		for k, n := range patternTruth(sc.speed, f, to, level, instance) {
			m[k] += n
		}
		return m
	}
	// seen merges the first and last times of batch's and speed's events.
	seen := func(f, to time.Time, level, instance string) map[string][2]string {
		m := patternSeen(sc.batch, f, to, level, instance)
		for k, s := range patternSeen(sc.speed, f, to, level, instance) {
			if b, ok := m[k]; ok {
				s = [2]string{min(s[0], b[0]), max(s[1], b[1])}
			}
			m[k] = s
		}
		return m
	}
	cases := []struct {
		name            string
		from, to        time.Time
		step            string
		level, instance string
		exact           bool
		newKinds        []string // templates that must be flagged new
		goneKinds       int      // patterns that must be listed gone
	}{
		{"batch, previous period batch too", t10.Add(time.Hour), horizon, "10m", "", "", true, nil, 0},
		{"straddling per 30m", t10.Add(90 * time.Minute), t10.Add(150 * time.Minute), "30m", "", "", false, nil, 0},
		{"new kind after 12:30", fixtureNewKind, t13, "5m", "", "", false, []string{"disk <*> full on volume <*>"}, 0},
		{"errors only", t10, t13, "1h", "ERROR", "", false, nil, 0},
		{"one instance, warnings", t10, t13, "1h", "WARN", "tdb-1", false, nil, 0},
		{"after the data: all gone", t13, t13.Add(30 * time.Minute), "", "", "", false, nil, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got patternsResp
			path := "/v1/patterns" + q(c.from, c.to, "k", "50", "step", c.step, "level", c.level, "instance", c.instance)
			if code := get(t, sc.url, path, &got); code != 200 {
				t.Fatalf("status %d", code)
			}
			want := truth(c.from, c.to, c.level, c.instance)
			wantSeen := seen(c.from, c.to, c.level, c.instance)
			prevFrom := c.from.Add(-c.to.Sub(c.from))
			prev := truth(prevFrom, c.from, c.level, c.instance)
			var wantTotal int64
			for _, n := range want {
				wantTotal += n
			}
			if got.Total != wantTotal {
				t.Errorf("total %d, want %d", got.Total, wantTotal)
			}
			gotCounts := map[string]int64{}
			for _, p := range got.Patterns {
				gotCounts[p.Template] = p.Count
				if p.Pattern != patterns.TemplateID(p.Template).String() {
					t.Errorf("%q: id %s, want the template's hash %s", p.Template, p.Pattern, patterns.TemplateID(p.Template))
				}
				var s int64
				for _, n := range p.Series {
					s += n
				}
				if s != p.Count {
					t.Errorf("%q: series sums to %d, count %d", p.Template, s, p.Count)
				}
				if p.Previous != prev[p.Template] {
					t.Errorf("%q: previous %d, want %d", p.Template, p.Previous, prev[p.Template])
				}
				if p.New != (prev[p.Template] == 0) {
					t.Errorf("%q: new %v with %d in the previous period", p.Template, p.New, prev[p.Template])
				}
				if pv := prev[p.Template]; pv > 0 {
					wantPct := float64(p.Count-pv) / float64(pv) * 100
					if p.ChangePct == nil || *p.ChangePct != wantPct {
						t.Errorf("%q: change %v%%, want %.2f%%", p.Template, p.ChangePct, wantPct)
					}
				}
				if share := float64(p.Count) / float64(wantTotal); p.Share != share {
					t.Errorf("%q: share %v, want %v", p.Template, p.Share, share)
				}
				if !strings.HasPrefix(p.Template, strings.Fields(p.Example.Line)[0]) {
					t.Errorf("%q: example %q is not of it", p.Template, p.Example.Line)
				}
				// First and last seen of the level and instance asked.
				if w := wantSeen[p.Template]; p.FirstSeen != w[0] || p.LastSeen != w[1] {
					t.Errorf("%q: first %s last %s, want %s %s", p.Template, p.FirstSeen, p.LastSeen, w[0], w[1])
				}
			}
			if !maps.Equal(gotCounts, want) {
				t.Errorf("counts %v, want %v", gotCounts, want)
			}
			for _, tmpl := range c.newKinds {
				found := false
				for _, p := range got.Patterns {
					found = found || (p.Template == tmpl && p.New)
				}
				if !found {
					t.Errorf("%q not listed as new: %+v", tmpl, got.Patterns)
				}
			}
			if len(got.Gone) != c.goneKinds {
				t.Errorf("%d gone, want %d: %+v", len(got.Gone), c.goneKinds, got.Gone)
			}
			prevSeen := seen(prevFrom, c.from, c.level, c.instance)
			for _, g := range got.Gone {
				if !g.Gone || g.Count != 0 || g.Previous != prev[g.Template] {
					t.Errorf("gone %+v: previous %d", g, prev[g.Template])
				}
				if w := prevSeen[g.Template]; g.FirstSeen != w[0] || g.LastSeen != w[1] {
					t.Errorf("gone %q: first %s last %s, want %s %s (previous period)", g.Template, g.FirstSeen, g.LastSeen, w[0], w[1])
				}
			}
			if got.Exact != c.exact {
				t.Errorf("exact %v, want %v", got.Exact, c.exact)
			}
			if got.BatchHorizon == nil || *got.BatchHorizon != "2026-11-20T12:00:00Z" {
				t.Errorf("batch_horizon %v", got.BatchHorizon)
			}
		})
	}
}

func testPatternsBadParams(t *testing.T, sc *scenario) {
	for _, c := range []struct{ name, query string }{
		{"k negative", "?k=-1"},
		{"k not a number", "?k=ten"},
		{"k too large", "?k=100000"},
		{"step not a multiple", "?step=90s"},
		{"step zero", "?step=0s"},
		{"from after to", "?from=2026-11-20T13:00:00Z&to=2026-11-20T12:00:00Z"},
		{"level too long", "?level=" + strings.Repeat("E", 100)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body struct{ Error string }
			if code := get(t, sc.url, "/v1/patterns"+c.query, &body); code != 400 || body.Error == "" {
				t.Errorf("status %d error %q, want 400 with a message", code, body.Error)
			}
		})
	}
}
