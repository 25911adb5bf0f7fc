package views

import (
	"fmt"
	"time"
)

// Grid is the fixed pane grid aligned to the Unix epoch. Every view state is
// kept per pane; a window is the merge of its panes. The step divides an
// hour, so panes never straddle the hour partitions of the lake and batch
// can recompute an hour without touching its neighbours.
type Grid struct {
	step time.Duration
}

// DefaultPane is the default pane width.
const DefaultPane = time.Minute

// NewGrid returns the grid of panes of width step.
func NewGrid(step time.Duration) (Grid, error) {
	if step < time.Second || time.Hour%step != 0 {
		return Grid{}, fmt.Errorf("pane %s must be at least 1s and divide an hour", step)
	}
	return Grid{step: step}, nil
}

// Step is the pane width.
func (g Grid) Step() time.Duration { return g.step }

// Start is the start of the pane holding t.
//
// time.Truncate aligns to the zero Time, which is hour aligned like the
// epoch; since step divides an hour the two grids coincide. Speed asks
// for the pane of every event, and Truncate's division of the time since
// year 1 was a tenth of a view's cost per event (BenchmarkViewAdd loop):
// a time whose Unix nanoseconds fit an int64 (years 1678-2262) is
// truncated on those, any other by Truncate; both give the same instant
// (TestGridStart).
func (g Grid) Start(t time.Time) time.Time {
	if sec := t.Unix(); sec > -maxUnixNanoSec && sec < maxUnixNanoSec && g.step > 0 {
		ns := t.UnixNano()
		r := ns % int64(g.step)
		if r < 0 {
			r += int64(g.step)
		}
		return time.Unix(0, ns-r).UTC()
	}
	return t.UTC().Truncate(g.step)
}

// maxUnixNanoSec bounds the Unix seconds whose nanoseconds Start reads
// from an int64 (9.2e9 s either side of the epoch), with a margin.
const maxUnixNanoSec = 9_000_000_000

// End is the end (exclusive) of the pane holding t.
func (g Grid) End(t time.Time) time.Time { return g.Start(t).Add(g.step) }

// Panes returns the starts of the panes overlapping [from, to).
func (g Grid) Panes(from, to time.Time) []time.Time {
	var out []time.Time
	for p := g.Start(from); p.Before(to); p = p.Add(g.step) {
		out = append(out, p)
	}
	return out
}
