package ship

import (
	"errors"
	"time"
)

// group is one multi-line record.
type group struct {
	text  []byte
	lines int
	split bool // cut by a cap rather than ended by a start line
}

// grouper groups lines into multi-line records (formats.Multiline).
type grouper interface {
	add(line []byte, now time.Time) (group, bool)
	expire(now time.Time) (group, bool)
	flush() (group, bool)
}

// newGrouper returns the grouper for --multiline-start.
func newGrouper(start string, timeout time.Duration) (grouper, error) {
	return nil, errors.New("--multiline-start: multi-line grouping is not available yet (formats.Multiline has not landed)")
}
