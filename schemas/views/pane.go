package views

import (
	"encoding"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// Pane holds every view's state for one pane (of one partition in speed,
// of all partitions in batch and serving): a field per view of Registry.
type Pane struct {
	Hot     *Hot
	Traffic *Traffic
	Levels  *Levels
	// Clusters is built with the pane's PaneSpec (NewPaneOf): speed and
	// batch give theirs.
	Clusters *Clusters
	// Patterns is filled by the layers, not by Add: it needs their
	// per-partition miners (see Patterns).
	Patterns *Patterns
	// Paths is requests, bytes and latency per URL path (paths.go).
	Paths *Paths
	// Statuses is requests and bytes per HTTP status code (statuses.go).
	Statuses *Statuses
}

// Registry lists every view, in a stable order (the order of Names, of
// speed's per-view offsets and of the documents written): the one place
// a view is declared for every layer (see Spec). A view's Spec is in its
// file, or in registry.go for the first five.
var Registry = []Spec{hotView, trafficView, levelsView, patternsView, clustersView, pathsView, statusesView}

// Names lists the names of the views of Registry, in its order.
var Names = names(Registry)

// NewPane returns an empty pane whose hot summary keeps hotCapacity terms
// (0: exact), with the default clusters spec.
func NewPane(hotCapacity int) *Pane {
	return NewPaneOf(PaneSpec{HotCapacity: hotCapacity}, time.Unix(0, 0))
}

// NewPaneOf returns an empty pane of the settings c starting at start.
func NewPaneOf(c PaneSpec, start time.Time) *Pane {
	p := &Pane{}
	for _, s := range Registry {
		s.fresh(p, c, start)
	}
	return p
}

// Add folds one event into every view. Events with a parse error count in
// no view: they are kept in the lake and counted by the layers. The
// registry is read by index: a range's copy of each Spec (13 words) was
// a third of the cost of the loop.
func (p *Pane) Add(ev *event.Event) {
	if ev.ParseError != "" {
		return
	}
	for i := range Registry {
		if add := Registry[i].add; add != nil {
			add(p, ev)
		}
	}
}

// Merge adds o into p.
func (p *Pane) Merge(o *Pane) {
	if o == nil {
		return
	}
	for _, s := range Registry {
		s.merge(p, o)
	}
}

// Clone returns an independent copy.
func (p *Pane) Clone() *Pane {
	c := &Pane{}
	for _, s := range Registry {
		s.clone(c, p)
	}
	return c
}

// state is one view's state as its codec sees it.
type state interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// spec returns the Spec of view.
func spec(view string) (Spec, error) {
	if s, ok := Lookup(view); ok {
		return s, nil
	}
	return Spec{}, errUnknownView(view)
}

// state returns the view's state of p, empty when p has none.
func (p *Pane) state(view string) (state, error) {
	s, err := spec(view)
	if err != nil {
		return nil, err
	}
	return s.get(p), nil
}

// Encode returns the view's state of p in its binary encoding; a pane
// without the state (patterns before the layers fill it) encodes the
// empty state.
func (p *Pane) Encode(view string) ([]byte, error) {
	s, err := p.state(view)
	if err != nil {
		return nil, err
	}
	return s.MarshalBinary()
}

// Decode replaces the view's state of p by the decoded data.
func (p *Pane) Decode(view string, data []byte) error {
	s, err := spec(view)
	if err != nil {
		return err
	}
	return s.set(p).UnmarshalBinary(data)
}

// Summary returns a few readable figures of the view, stored beside the
// encoded state for people reading the database.
func (p *Pane) Summary(view string) map[string]any {
	if s, err := spec(view); err == nil {
		return s.summary(p)
	}
	return nil
}
