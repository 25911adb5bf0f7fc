package serving

import (
	"maps"
	"time"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// hourSeconds is the width of an hour block. Panes divide an hour and the
// batch horizon is the end of a recomputed hour, so an hour is never split
// between batch and speed.
const hourSeconds = int64(time.Hour / time.Second)

// state is the merged view state of one pane or one hour block, immutable
// once published in a snapshot: requests merge it into their own
// accumulators and never change it.
type state struct {
	pane *views.Pane
	// uv and ips are Traffic.UVCount and IPCount, computed once at refresh
	// because an HLL estimate costs far more than reading two numbers, and a
	// traffic series with one bucket per pane reads them for every bucket.
	uv, ips int64
}

// newState seals p (which the caller no longer changes) into a state.
func newState(p *views.Pane) *state {
	return &state{pane: p, uv: p.Traffic.UVCount(), ips: p.Traffic.IPCount()}
}

// layer is one side of the horizon: per-pane states and, for every hour
// with at least one pane, the merge of that hour's panes, and for every
// complete UTC day, the merge of its hours (views.Block; batch's from the
// tiers batch stores, batch_<view>_tiers). A range is answered from day
// states, hour states and panes at its edges, so 7 days merge at most
// about 7 + 2*23 + 2*59 states, however many panes they hold.
type layer struct {
	panes map[int64]*state // by pane start, Unix seconds
	hours map[int64]*state // by hour start, Unix seconds
	days  map[int64]*state // by UTC day start, Unix seconds
}

func newLayer() layer {
	return layer{panes: map[int64]*state{}, hours: map[int64]*state{}, days: map[int64]*state{}}
}

// clone returns a layer whose maps can be changed without touching l; the
// states themselves are shared, being immutable.
func (l layer) clone() layer {
	return layer{panes: maps.Clone(l.panes), hours: maps.Clone(l.hours), days: maps.Clone(l.days)}
}

// rebuildHour recomputes the hour block starting at hour from the layer's
// panes, with the given pane width in seconds, or takes batch's stored
// tier of the hour when tier is not nil.
//
// The clusters state of an hour (a merge of its panes' micro-clusters,
// reduced: the costly part) is built only for a complete hour; an hour
// still filling (speed's current hour, rebuilt at every refresh) has none,
// and a query reads its panes (clustersIn).
func (l layer) rebuildHour(hour, paneSeconds int64, complete bool, tier *views.Pane) {
	var parts []*views.Pane
	for p := hour; p < hour+hourSeconds; p += paneSeconds {
		if st := l.panes[p]; st != nil {
			parts = append(parts, st.pane)
		}
	}
	switch {
	case len(parts) == 0:
		delete(l.hours, hour)
	case tier != nil:
		l.hours[hour] = newState(tier)
	default:
		l.hours[hour] = newState(views.Block(time.Unix(hour, 0), parts, complete))
	}
}

// dropBefore removes every pane and hour block starting before t (Unix
// seconds): speed panes before the horizon are never read again.
func (l layer) dropBefore(t int64) int {
	n := 0
	for k := range l.panes {
		if k < t {
			delete(l.panes, k)
			n++
		}
	}
	for k := range l.hours {
		if k < t {
			delete(l.hours, k)
		}
	}
	for k := range l.days {
		if k < t {
			delete(l.days, k)
		}
	}
	return n
}

// daySeconds is the width of a day block: a UTC day.
const daySeconds = 24 * hourSeconds

// rebuildDays rebuilds the day block of every day holding one of hours,
// from the layer's hour blocks (or takes batch's stored tier of the day,
// from tiers), when the day ends at or before complete (Unix seconds: the
// horizon for batch, the newest pane for speed); a day not complete has no
// block, and a query reads its hours.
func (l layer) rebuildDays(hours map[int64]bool, complete int64, tiers map[int64]*views.Pane) {
	days := map[int64]bool{}
	for h := range hours {
		days[h-mod(h, daySeconds)] = true
	}
	for d := range days {
		delete(l.days, d)
		if d+daySeconds > complete {
			continue
		}
		var parts []*views.Pane
		for h := d; h < d+daySeconds; h += hourSeconds {
			if st := l.hours[h]; st != nil {
				parts = append(parts, st.pane)
			}
		}
		switch {
		case len(parts) == 0:
		case tiers[d] != nil:
			l.days[d] = newState(tiers[d])
		default:
			l.days[d] = newState(views.Block(time.Unix(d, 0), parts, true))
		}
	}
}

// snapshot is everything a request reads: it is built by a refresh and
// then only read, so requests need no lock.
type snapshot struct {
	// horizon is the batch horizon; zero when batch has never run.
	horizon time.Time
	batch   layer
	speed   layer
	status  statusSnapshot
	// refreshed is when the refresh that built the snapshot finished.
	refreshed time.Time
	// gen is the data version (answers.go): it grows with every publish
	// that changed speed panes; batchGen with every new batch layer or
	// lake summary. changes are the last changeLog publishes' changed
	// panes, oldest first.
	gen, batchGen uint64
	changes       []change
}

// statusSnapshot is the operational state shown by /v1/status.
type statusSnapshot struct {
	partitions []collections.Checkpoint
	lake       map[string]any
	// blocked are the layer processes recorded as blocked in MongoDB
	// (a speed or batch running apart from this server).
	blocked []collections.LayerState
}

func emptySnapshot() *snapshot {
	return &snapshot{batch: newLayer(), speed: newLayer()}
}
