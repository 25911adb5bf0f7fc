package serving

import "math"

// statesIn appends the states covering the panes in [from, to) (Unix
// seconds, pane aligned) to out. This is the lambda merge: a pane before the
// horizon comes from batch, a pane at or after it from speed, never both.
// A whole UTC day inside the range and on one side of the horizon is taken
// as its day block, a whole hour as its hour block, so a day costs one
// state rather than 1440, and 7 days at most about 7 + 2*23 + 2*59.
func (sn *snapshot) statesIn(out []*state, from, to, pane int64) []*state {
	return sn.tiling(out, from, to, pane, false)
}

// quarterStatesIn is statesIn taking also the quarter blocks of complete
// hours, which hold quarterView's views and paths only: for their readers
// alone.
func (sn *snapshot) quarterStatesIn(out []*state, from, to, pane int64) []*state {
	return sn.tiling(out, from, to, pane, true)
}

func (sn *snapshot) tiling(out []*state, from, to, pane int64, quarters bool) []*state {
	h := int64(math.MinInt64) // no horizon: everything is speed
	if !sn.horizon.IsZero() {
		h = sn.horizon.Unix()
	}
	for t := from; t < to; {
		l, batch := &sn.speed, t < h
		if batch {
			l = &sn.batch
		}
		if mod(t, daySeconds) == 0 && t+daySeconds <= to && (!batch || t+daySeconds <= h) {
			if st := l.days[t]; st != nil {
				out = append(out, st)
				t += daySeconds
				continue
			}
		}
		// An hour without a block has no panes either (rebuildHour), and
		// reading it pane by pane finds none: it costs lookups, not merges.
		if st := l.hours[t]; st != nil && mod(t, hourSeconds) == 0 && t+hourSeconds <= to && (!batch || t+hourSeconds <= h) {
			out = append(out, st)
			t += hourSeconds
			continue
		}
		if quarters && mod(t, quarterSeconds) == 0 && t+quarterSeconds <= to && (!batch || t+quarterSeconds <= h) {
			if st := l.quarters[t]; st != nil {
				out = append(out, st)
				t += quarterSeconds
				continue
			}
		}
		if st := l.panes[t]; st != nil {
			out = append(out, st)
		}
		t += pane
	}
	return out
}

// exact reports whether [from, to) lies wholly before the horizon, so that
// every pane of it comes from batch's exact views.
func (sn *snapshot) exact(sp span) bool {
	return !sn.horizon.IsZero() && sp.to <= sn.horizon.Unix()
}
