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
func (g Grid) Start(t time.Time) time.Time {
	// time.Truncate aligns to the zero Time, which is hour aligned like the
	// epoch; since step divides an hour the two grids coincide.
	return t.UTC().Truncate(g.step)
}

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
