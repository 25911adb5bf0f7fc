package batch

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// figures are a state's numbers a tier must keep exactly, per view.
func figures(p *views.Pane) map[string]any {
	hot := map[string]int64{}
	for _, tc := range p.Hot.Top(0) {
		hot[tc.Term] = tc.Count
	}
	levels := map[string]int64{}
	p.Levels.Each(func(k views.LevelKey, n int64) { levels[k.Instance+"/"+k.Level] = n })
	pats := map[string]int64{}
	for _, st := range p.Patterns.Stats() {
		pats[fmt.Sprint(st.ID)] += st.Count
	}
	paths := map[string][3]int64{}
	for _, st := range p.Paths.Stats() {
		paths[st.Path] = [3]int64{st.Count, st.BytesSum, st.Latency.Count()}
	}
	tr := p.Traffic
	return map[string]any{
		"hot": hot, "levels": levels, "patterns": pats, "paths": paths,
		"traffic":  fmt.Sprint(tr.PV, tr.Status, tr.Bytes, tr.Latency, tr.LatencySum, tr.UV.Estimate(), tr.IPs.Estimate()),
		"clusters": fmt.Sprint(p.Clusters.Total(), p.Clusters.Missing),
		"statuses": fmt.Sprint(p.Statuses.Codes()),
	}
}

// checkTiers compares every hour and day tier batch stored with the merge
// of the stored panes of its hour or day, merged here pane after pane
// with Pane.Merge (not views.Block, which wrote the tiers): a tier holds
// every view, and the figures of every view equal the panes'. Every hour
// with panes has its tier, and so has every day whose hours are
// recomputed.
func (s *stack) checkTiers(ctx context.Context) {
	s.t.Helper()
	hours := map[time.Time]*views.Pane{}
	days := map[time.Time]*views.Pane{}
	for _, view := range views.Names {
		for _, d := range testkit.All[collections.Doc](s.t, s.db.Collection(collections.BatchCollection(view))) {
			for _, m := range []struct {
				acc   map[time.Time]*views.Pane
				start time.Time
			}{{hours, d.Pane.UTC().Truncate(time.Hour)}, {days, d.Pane.UTC().Truncate(24 * time.Hour)}} {
				one := &views.Pane{}
				if err := one.Decode(view, d.State); err != nil {
					s.t.Fatalf("doc %s: %v", d.ID, err)
				}
				if m.acc[m.start] == nil {
					m.acc[m.start] = views.NewMergePane()
				}
				sp, _ := views.Lookup(view)
				sp.Merge(m.acc[m.start], one)
			}
		}
	}
	for _, w := range []struct {
		width time.Duration
		want  map[time.Time]*views.Pane
	}{{time.Hour, hours}, {24 * time.Hour, days}} {
		got := map[time.Time]*views.Pane{}
		for _, view := range views.Names {
			for _, d := range testkit.All[collections.Doc](s.t, s.db.Collection(collections.TierCollection(view))) {
				if d.PaneEnd.Sub(d.Pane) != w.width {
					continue
				}
				start := d.Pane.UTC()
				if d.ID != collections.TierID(view, start, w.width) || d.View != view || d.Partition != -1 {
					s.t.Errorf("tier doc %s: view %s partition %d", d.ID, d.View, d.Partition)
				}
				if got[start] == nil {
					got[start] = &views.Pane{}
				}
				if err := got[start].Decode(view, d.State); err != nil {
					s.t.Fatalf("tier doc %s: %v", d.ID, err)
				}
			}
		}
		if len(got) != len(w.want) {
			s.t.Errorf("%d tiers of %s, want %d (one per %s with panes)", len(got), w.width, len(w.want), w.width)
		}
		for start, want := range w.want {
			g := got[start]
			if g == nil {
				s.t.Errorf("tier %s of %s: missing", w.width, start.Format(time.RFC3339))
				continue
			}
			for _, sp := range views.Registry {
				if _, ok := figures(want)[sp.Name]; !ok {
					s.t.Fatalf("view %s: no figures to compare its tiers by (add them to figures)", sp.Name)
				}
				if g2, w2 := figures(g)[sp.Name], figures(want)[sp.Name]; !reflect.DeepEqual(g2, w2) {
					s.t.Errorf("tier %s of %s, view %s: %v, merge of its panes %v", w.width, start.Format(time.RFC3339), sp.Name, g2, w2)
				}
			}
		}
	}
}
