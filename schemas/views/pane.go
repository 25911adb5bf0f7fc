package views

import "github.com/loglambda/loglambda/schemas/event"

// Pane holds every view's state for one pane (of one partition in speed,
// of all partitions in batch and serving).
type Pane struct {
	Hot     *Hot
	Traffic *Traffic
	Levels  *Levels
	// Patterns is filled by the layers, not by Add: it needs their
	// per-partition miners (see Patterns).
	Patterns *Patterns
}

// NewPane returns an empty pane whose hot summary keeps hotCapacity terms
// (0: exact).
func NewPane(hotCapacity int) *Pane {
	return &Pane{Hot: NewHot(hotCapacity), Traffic: NewTraffic(), Levels: NewLevels(), Patterns: NewPatterns()}
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
}

// Merge adds o into p.
func (p *Pane) Merge(o *Pane) {
	if o == nil {
		return
	}
	p.Hot.Merge(o.Hot)
	p.Traffic.Merge(o.Traffic)
	p.Levels.Merge(o.Levels)
	if o.Patterns != nil {
		if p.Patterns == nil {
			p.Patterns = NewPatterns()
		}
		p.Patterns.Merge(o.Patterns)
	}
}

// Clone returns an independent copy.
func (p *Pane) Clone() *Pane {
	c := &Pane{Hot: p.Hot.Clone(), Traffic: p.Traffic.Clone(), Levels: p.Levels.Clone()}
	if p.Patterns != nil {
		c.Patterns = p.Patterns.Clone()
	}
	return c
}

// Encode returns the view's state of p in its binary encoding.
func (p *Pane) Encode(view string) ([]byte, error) {
	switch view {
	case ViewHot:
		return p.Hot.MarshalBinary()
	case ViewTraffic:
		return p.Traffic.MarshalBinary()
	case ViewLevels:
		return p.Levels.MarshalBinary()
	case ViewPatterns:
		if p.Patterns == nil {
			return NewPatterns().MarshalBinary()
		}
		return p.Patterns.MarshalBinary()
	}
	return nil, errUnknownView(view)
}

// Decode replaces the view's state of p by the decoded data.
func (p *Pane) Decode(view string, data []byte) error {
	switch view {
	case ViewHot:
		return p.Hot.UnmarshalBinary(data)
	case ViewTraffic:
		return p.Traffic.UnmarshalBinary(data)
	case ViewLevels:
		return p.Levels.UnmarshalBinary(data)
	case ViewPatterns:
		if p.Patterns == nil {
			p.Patterns = NewPatterns()
		}
		return p.Patterns.UnmarshalBinary(data)
	}
	return errUnknownView(view)
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
	case ViewPatterns:
		if p.Patterns == nil {
			return nil
		}
		return p.Patterns.Summary()
	}
	return nil
}
