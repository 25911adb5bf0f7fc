package serving

import "math"

// statesIn appends the states covering the panes in [from, to) (Unix
// seconds, pane aligned) to out. This is the lambda merge: a pane before the
// horizon comes from batch, a pane at or after it from speed, never both.
// A whole hour inside the range and on one side of the horizon is taken as
// its hour block, so a day costs 24 states rather than 1440.
func (sn *snapshot) statesIn(out []*state, from, to, pane int64) []*state {
	h := int64(math.MinInt64) // no horizon: everything is speed
	if !sn.horizon.IsZero() {
		h = sn.horizon.Unix()
	}
	for t := from; t < to; {
		l, batch := &sn.speed, t < h
		if batch {
			l = &sn.batch
		}
		if mod(t, hourSeconds) == 0 && t+hourSeconds <= to && (!batch || t+hourSeconds <= h) {
			if st := l.hours[t]; st != nil {
				out = append(out, st)
			}
			t += hourSeconds
			continue
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
