package serving

import (
	"time"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// tierSet holds batch's hour and day tiers as read (batch_<view>_tiers),
// by start in Unix seconds: the batch layer takes them as its hour and day
// blocks instead of merging its panes, so a restart merges nothing.
type tierSet struct {
	hours, days map[int64]*views.Pane
	// views counts, per tier, the views read: a tier is used only whole.
	views map[tierKey]int
}

type tierKey struct {
	start int64
	day   bool
}

func newTierSet() *tierSet {
	return &tierSet{hours: map[int64]*views.Pane{}, days: map[int64]*views.Pane{}, views: map[tierKey]int{}}
}

// add decodes view's tier document d into t, unless it ends after horizon
// (Unix seconds: a day still filling) or is neither an hour nor a day.
func (t *tierSet) add(view string, d *collections.Doc, horizon int64) error {
	if d.PaneEnd.Unix() > horizon {
		return nil
	}
	var m map[int64]*views.Pane
	switch d.PaneEnd.Sub(d.Pane) {
	case time.Hour:
		m = t.hours
	case 24 * time.Hour:
		m = t.days
	default:
		return nil
	}
	k := d.Pane.Unix()
	p := m[k]
	if p == nil {
		p = &views.Pane{}
		m[k] = p
	}
	if err := p.Decode(view, d.State); err != nil {
		return err
	}
	t.views[tierKey{k, d.PaneEnd.Sub(d.Pane) == 24*time.Hour}]++
	return nil
}

// keepWhole drops every tier missing a view's state (a tier batch could
// not store, or written before the view had tiers): its hour or day is
// merged from the finer states instead.
func (t *tierSet) keepWhole() {
	for k := range t.hours {
		if t.views[tierKey{k, false}] < len(views.Names) {
			delete(t.hours, k)
		}
	}
	for k := range t.days {
		if t.views[tierKey{k, true}] < len(views.Names) {
			delete(t.days, k)
		}
	}
}
