package views

import (
	"encoding"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// Pane holds every view's state for one pane (of one partition in speed,
// of all partitions in batch and serving).
type Pane struct {
	Hot     *Hot
	Traffic *Traffic
	Levels  *Levels
	// Clusters is built with the default spec; speed and batch replace it
	// by NewClusters(their spec, the pane start).
	Clusters *Clusters
	// Patterns is filled by the layers, not by Add: it needs their
	// per-partition miners (see Patterns).
	Patterns *Patterns
}

// NewPane returns an empty pane whose hot summary keeps hotCapacity terms
// (0: exact).
func NewPane(hotCapacity int) *Pane {
	return &Pane{Hot: NewHot(hotCapacity), Traffic: NewTraffic(), Levels: NewLevels(), Patterns: NewPatterns(),
		Clusters: NewClusters(DefaultClusterSpec(), time.Unix(0, 0))}
}

// Add folds one event into every view. Events with a parse error count in
// no view: they are kept in the lake and counted by the layers.
func (p *Pane) Add(ev *event.Event) {
	if ev.ParseError != "" {
		return
	}
	p.Hot.Add(ev.HotTerm)
	p.Traffic.Add(ev)
	p.Levels.Add(ev)
	p.Clusters.Add(ev)
}

// Merge adds o into p.
func (p *Pane) Merge(o *Pane) {
	if o == nil {
		return
	}
	p.Hot.Merge(o.Hot)
	p.Traffic.Merge(o.Traffic)
	p.Levels.Merge(o.Levels)
	p.mergeClusters(o)
	if o.Patterns != nil {
		if p.Patterns == nil {
			p.Patterns = NewPatterns()
		}
		p.Patterns.Merge(o.Patterns)
	}
}

// Clone returns an independent copy.
func (p *Pane) Clone() *Pane {
	c := &Pane{Hot: p.Hot.Clone(), Traffic: p.Traffic.Clone(), Levels: p.Levels.Clone(), Clusters: p.Clusters.Clone()}
	if p.Patterns != nil {
		c.Patterns = p.Patterns.Clone()
	}
	return c
}

// state is one view's state as its codec sees it.
type state interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// state returns the view's state of p: the one mapping from view names to
// states, which Encode and Decode share. A pane without patterns gets an
// empty state that p does not keep.
func (p *Pane) state(view string) (state, error) {
	switch view {
	case ViewHot:
		return p.Hot, nil
	case ViewTraffic:
		return p.Traffic, nil
	case ViewLevels:
		return p.Levels, nil
	case ViewClusters:
		return p.Clusters, nil
	case ViewPatterns:
		if p.Patterns == nil {
			return NewPatterns(), nil
		}
		return p.Patterns, nil
	}
	return nil, errUnknownView(view)
}

// Encode returns the view's state of p in its binary encoding.
func (p *Pane) Encode(view string) ([]byte, error) {
	s, err := p.state(view)
	if err != nil {
		return nil, err
	}
	return s.MarshalBinary()
}

// Decode replaces the view's state of p by the decoded data.
func (p *Pane) Decode(view string, data []byte) error {
	if view == ViewPatterns && p.Patterns == nil {
		p.Patterns = NewPatterns()
	}
	s, err := p.state(view)
	if err != nil {
		return err
	}
	return s.UnmarshalBinary(data)
}

// Summary returns a few readable figures of the view, stored beside the
// encoded state for people reading the database.
func (p *Pane) Summary(view string) map[string]any {
	switch view {
	case ViewHot:
		top := p.Hot.Top(10)
		terms := make([]map[string]any, len(top))
		for i, t := range top {
			terms[i] = map[string]any{"term": t.Term, "count": t.Count}
		}
		return map[string]any{"top": terms, "floor": p.Hot.Floor()}
	case ViewTraffic:
		return map[string]any{"pv": p.Traffic.PV, "uv": p.Traffic.UVCount(), "ips": p.Traffic.IPCount()}
	case ViewLevels:
		return p.Levels.Summary()
	case ViewClusters:
		return p.Clusters.Summary()
	case ViewPatterns:
		if p.Patterns == nil {
			return nil
		}
		return p.Patterns.Summary()
	}
	return nil
}
