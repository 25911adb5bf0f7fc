package views

import "github.com/loglambda/loglambda/schemas/event"

// AddTo folds one event into one view of p only, with the same rules as
// Add. Speed needs it when a restored pane's views were stored at different
// offsets (a crash between the writes of two collections): each view must
// skip exactly the events it already holds.
func (p *Pane) AddTo(view string, ev *event.Event) {
	if ev.ParseError != "" {
		return
	}
	switch view {
	case ViewHot:
		p.Hot.Add(ev.HotTerm)
	case ViewTraffic:
		p.Traffic.Add(ev)
	case ViewLevels:
		p.Levels.Add(ev)
	}
	// ViewPatterns: the layers add to p.Patterns with their miner's ids.
}
