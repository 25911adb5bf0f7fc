package views

import "github.com/loglambda/loglambda/schemas/event"

// AddTo folds one event into one view of p only, with the same rules as
// Add. Speed needs it when a restored pane's views were stored at different
// offsets (a crash between the writes of two collections): each view must
// skip exactly the events it already holds. A CountMiner view (patterns)
// adds nothing: the layers add to it with their miner's ids.
func (p *Pane) AddTo(view string, ev *event.Event) {
	if s, ok := Lookup(view); ok {
		s.Add(p, ev)
	}
}
