package ship

import (
	"time"

	"github.com/loglambda/loglambda/schemas/formats"
)

// group is one multi-line record.
type group struct {
	text  []byte
	lines int
	split bool // cut by a cap rather than ended by a start line
}

// grouper groups lines into multi-line records. It is formats.Multiline;
// the interface keeps the source's code free of the formats types and says
// which three calls the shipper relies on.
type grouper interface {
	add(line []byte, now time.Time) (group, bool)
	expire(now time.Time) (group, bool)
	flush() (group, bool)
}

// newGrouper returns the grouper for --multiline-start. A zero timeout
// keeps formats' default.
func newGrouper(start string, timeout time.Duration) (grouper, error) {
	var opts []formats.MultilineOpt
	if timeout > 0 {
		opts = append(opts, formats.MultilineTimeout(timeout))
	}
	m, err := formats.NewMultiline(start, opts...)
	if err != nil {
		return nil, err
	}
	return multiline{m}, nil
}

// multiline adapts formats.Multiline to grouper.
type multiline struct{ m *formats.Multiline }

func toGroup(g formats.MultilineGroup, ok bool) (group, bool) {
	return group{text: g.Text, lines: g.Lines, split: g.Split}, ok
}

func (g multiline) add(line []byte, now time.Time) (group, bool) { return toGroup(g.m.Add(line, now)) }
func (g multiline) expire(now time.Time) (group, bool)           { return toGroup(g.m.Expire(now)) }
func (g multiline) flush() (group, bool)                         { return toGroup(g.m.Flush()) }
