package gen

import (
	"fmt"
	"time"
)

// Opt configures a Generator.
type Opt func(*cfg)

// cfg holds every setting; defaults live in defaultCfg.
type cfg struct {
	seed  int64
	rate  float64
	start time.Time
	count int64

	// Disorder: shares of events whose time is moved into the past.
	outOfOrder float64
	late       float64

	// burstAt, when set, starts an error burst at that event time besides
	// the random schedule.
	burstAt time.Time
}

// DefaultStart is the start of event time when no Start is given: a fixed
// instant, because the generator never reads the clock (callers that want
// "now" pass it).
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Defaults, printed by the commands' --help.
const (
	DefaultRate       = 200.0
	DefaultOutOfOrder = 0.01
	DefaultLate       = 0.001
	// maxRate bounds Rate: beyond it the spacing of events (1/rate) falls
	// under a nanosecond and times would stop advancing.
	maxRate = 1e9
)

func defaultCfg() cfg {
	return cfg{
		seed:       1,
		rate:       DefaultRate,
		start:      DefaultStart,
		outOfOrder: DefaultOutOfOrder,
		late:       DefaultLate,
	}
}

// Seed selects the sequence: the same seed and options give the same lines.
func Seed(s int64) Opt { return func(c *cfg) { c.seed = s } }

// Rate is the number of events per second of event time.
func Rate(perSecond float64) Opt { return func(c *cfg) { c.rate = perSecond } }

// Start is the event time of the first event.
func Start(t time.Time) Opt { return func(c *cfg) { c.start = t.UTC() } }

// Count stops the generator after n events (Done reports it); 0 means
// unbounded.
func Count(n int64) Opt { return func(c *cfg) { c.count = n } }

// OutOfOrder is the share of events stamped a few seconds to a minute before
// the previous event: disorder that the speed layer's lateness absorbs.
func OutOfOrder(frac float64) Opt { return func(c *cfg) { c.outOfOrder = frac } }

// Late is the share of events stamped 5 to 30 minutes in the past: beyond the
// default lateness, so speed drops them and only batch counts them.
func Late(frac float64) Opt { return func(c *cfg) { c.late = frac } }

// BurstAt starts an error burst at event time t, besides the random ones
// (about every 30 minutes): `up --demo` asks for one soon after it starts,
// so that its alerts fire while someone is looking.
func BurstAt(t time.Time) Opt { return func(c *cfg) { c.burstAt = t.UTC() } }

func (c *cfg) validate() error {
	switch {
	case !(c.rate > 0) || c.rate > maxRate:
		return fmt.Errorf("rate %g must be > 0 and <= %g events/s", c.rate, float64(maxRate))
	case c.count < 0:
		return fmt.Errorf("count %d must be >= 0 (0: unbounded)", c.count)
	case !(c.outOfOrder >= 0 && c.outOfOrder <= 1):
		return fmt.Errorf("out-of-order share %g must be within [0, 1]", c.outOfOrder)
	case !(c.late >= 0 && c.late <= 1):
		return fmt.Errorf("late share %g must be within [0, 1]", c.late)
	case c.outOfOrder+c.late > 1:
		return fmt.Errorf("out-of-order share %g plus late share %g exceed 1", c.outOfOrder, c.late)
	case c.start.IsZero():
		return fmt.Errorf("start time is zero")
	}
	return nil
}
