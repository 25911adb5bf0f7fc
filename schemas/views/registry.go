package views

import (
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// Spec declares one view once, for every layer: its name (which names its
// MongoDB collections speed_<name> and batch_<name> and prefixes its
// document ids), how batch counts it from the lake, and its algebra over
// a Pane: the identity, Add, Merge, Clone, the binary codec of its
// documents' state and the readable summary beside it. Speed folds,
// stores and restores every view of Registry; batch writes every view's
// documents and folds the CountEvents views from the lake's rows; serving
// reads and merges every view's documents. What a view answers (its
// query, route and RPC) is serving's.
type Spec struct {
	// Name is the view's name: "hot", "traffic", ...
	Name string
	// Count is how batch counts the view from the lake.
	Count Counting
	// Document says what a document of the view holds besides its
	// binary state: the fields of its readable summary.
	Document string

	fresh   func(p *Pane, c PaneSpec, start time.Time)
	get     func(p *Pane) state
	set     func(p *Pane) state // get, making the state when p has none
	add     func(p *Pane, ev *event.Event)
	merge   func(p, o *Pane)
	clone   func(c, p *Pane)
	summary func(p *Pane) map[string]any
	columns func(p *Pane) []string
}

// Counting is how batch counts a view from the lake.
type Counting int

const (
	// CountSQL views are exact GROUP BYs over the hour's rows, written
	// in batch/sql.go (and kept equal to Add by its tests).
	CountSQL Counting = iota
	// CountEvents views are folded by batch with the view's own Add,
	// from the hour's parsed rows in partition and offset order (the
	// order speed applied them in), per partition, then merged: batch's
	// state of a pane speed saw whole is speed's. A view whose Add reads
	// only event columns needs nothing more in batch than its Columns.
	CountEvents
	// CountMiner views are filled by the layers' per-partition pattern
	// miners (speed/patterns.go, batch/patterns.go), not by Add.
	CountMiner
)

// PaneSpec is what a pane's empty states depend on: the hot summary's
// capacity (0: exact) and the clusters view's spec (nil: the default).
type PaneSpec struct {
	HotCapacity int
	Clusters    *ClusterSpec
	// Merging asks for states to merge many panes into (serving's hour
	// blocks and answers): without the caps a stored state keeps, so a
	// merge of panes loses nothing any pane kept.
	Merging bool
}

// Columns returns the event columns (event.Col*) the view's Add reads, for
// a pane made with p's settings; batch reads those of the CountEvents
// views. Columns outside event's Arrow schema are not allowed.
func (s Spec) Columns(p *Pane) []string {
	if s.columns == nil {
		return nil
	}
	return s.columns(p)
}

// Fresh replaces p's state of the view by its identity.
func (s Spec) Fresh(p *Pane, c PaneSpec, start time.Time) { s.fresh(p, c, start) }

// Add folds ev into p's state of the view, as Pane.Add does (parse errors
// count in no view). A CountMiner view adds nothing.
func (s Spec) Add(p *Pane, ev *event.Event) {
	if s.add != nil && ev.ParseError == "" {
		s.add(p, ev)
	}
}

// Merge adds o's state of the view into p's.
func (s Spec) Merge(p, o *Pane) {
	if o != nil {
		s.merge(p, o)
	}
}

// Lookup returns the Spec of the view named name.
func Lookup(name string) (Spec, bool) {
	for _, s := range Registry {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// Counted returns the views batch counts the way c says, in Registry
// order.
func Counted(c Counting) []Spec {
	var out []Spec
	for _, s := range Registry {
		if s.Count == c {
			out = append(out, s)
		}
	}
	return out
}

// names lists the names of specs in order.
func names(specs []Spec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// define builds a Spec from a state type S (a pointer such as *Hot) and
// where a Pane keeps it. empty is the identity for a pane's settings;
// merge may be nil when the caller sets the Spec's merge itself; a
// nil state in a pane (patterns, before the layers fill it) reads as
// empty and merges as nothing.
func define[S interface {
	comparable
	state
}](name string, count Counting, document string, field func(*Pane) *S,
	empty func(c PaneSpec, start time.Time) S,
	add func(S, *event.Event), merge func(S, S), clone func(S) S, summary func(S) map[string]any,
) Spec {
	var none S
	sp := Spec{Name: name, Count: count, Document: document}
	sp.fresh = func(p *Pane, c PaneSpec, start time.Time) { *field(p) = empty(c, start) }
	sp.get = func(p *Pane) state {
		if s := *field(p); s != none {
			return s
		}
		return empty(PaneSpec{}, time.Unix(0, 0))
	}
	sp.set = func(p *Pane) state {
		if *field(p) == none {
			*field(p) = empty(PaneSpec{}, time.Unix(0, 0))
		}
		return *field(p)
	}
	if add != nil {
		sp.add = func(p *Pane, ev *event.Event) { add(*field(p), ev) }
	}
	sp.merge = func(p, o *Pane) {
		src := *field(o)
		switch dst := field(p); {
		case src == none:
		case *dst == none:
			*dst = clone(src)
		default:
			merge(*dst, src)
		}
	}
	sp.clone = func(c, p *Pane) {
		if s := *field(p); s != none {
			*field(c) = clone(s)
		}
	}
	sp.summary = func(p *Pane) map[string]any {
		if s := *field(p); s != none {
			return summary(s)
		}
		return nil
	}
	return sp
}

// The views of loglambda but the ones declared in their own files; each
// is listed in Registry (pane.go).
var (
	hotView = define(ViewHot, CountSQL, "summary: top (the 10 largest terms with their counts), floor (the summary's error bound)",
		func(p *Pane) **Hot { return &p.Hot },
		func(c PaneSpec, _ time.Time) *Hot { return NewHot(c.HotCapacity) },
		func(h *Hot, ev *event.Event) { h.Add(ev.HotTerm) }, (*Hot).Merge, (*Hot).Clone,
		func(h *Hot) map[string]any {
			top := h.Top(10)
			terms := make([]map[string]any, len(top))
			for i, t := range top {
				terms[i] = map[string]any{"term": t.Term, "count": t.Count}
			}
			return map[string]any{"top": terms, "floor": h.Floor()}
		})
	trafficView = define(ViewTraffic, CountSQL, "summary: pv, uv, ips",
		func(p *Pane) **Traffic { return &p.Traffic },
		func(PaneSpec, time.Time) *Traffic { return NewTraffic() },
		(*Traffic).Add, (*Traffic).Merge, (*Traffic).Clone,
		func(t *Traffic) map[string]any {
			return map[string]any{"pv": t.PV, "uv": t.UVCount(), "ips": t.IPCount()}
		})
	levelsView = define(ViewLevels, CountSQL, "summary: <instance> -> <level> -> count",
		func(p *Pane) **Levels { return &p.Levels },
		func(PaneSpec, time.Time) *Levels { return NewLevels() },
		(*Levels).Add, (*Levels).Merge, (*Levels).Clone, (*Levels).Summary)
	patternsView = define(ViewPatterns, CountMiner, "summary: the top patterns with their templates and counts",
		func(p *Pane) **Patterns { return &p.Patterns },
		func(PaneSpec, time.Time) *Patterns { return NewPatterns() },
		nil, (*Patterns).Merge, (*Patterns).Clone, (*Patterns).Summary)
	clustersView = clustersSpec()
)

// clustersSpec is the clusters view; its merge is Pane.mergeClusters
// (states of different specs keep the larger one).
func clustersSpec() Spec {
	sp := define(ViewClusters, CountEvents, "summary: micro-clusters, events, missing",
		func(p *Pane) **Clusters { return &p.Clusters },
		func(c PaneSpec, start time.Time) *Clusters {
			spec := c.Clusters
			if spec == nil {
				spec = DefaultClusterSpec()
			}
			return NewClusters(spec, start)
		},
		(*Clusters).Add, nil, (*Clusters).Clone, (*Clusters).Summary)
	merge := sp.merge // for a pane without clusters: a clone
	sp.merge = func(p, o *Pane) {
		if p.Clusters == nil || o.Clusters == nil {
			merge(p, o)
			return
		}
		p.mergeClusters(o)
	}
	sp.columns = func(p *Pane) []string {
		cols := []string{}
		extra := false
		for _, f := range p.Clusters.Spec().Fields {
			switch f {
			case event.ColLatencyMS, event.ColBytes, event.ColStatus:
				cols = append(cols, f)
			default:
				extra = true
			}
		}
		if extra {
			cols = append(cols, event.ColFields)
		}
		return cols
	}
	return sp
}
