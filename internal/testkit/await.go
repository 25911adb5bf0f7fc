package testkit

import (
	"testing"
	"time"
)

// Await polls cond until it returns nil, and fails tb when the system
// under test has stopped moving. cond's error says where the wait stands
// (events applied, lags, a horizon); while that text changes, the system
// is progressing, only slower on a loaded machine, so the wait goes on.
// It fails when the text has stayed the same for stall, or after
// 4×stall in all, or a minute before the test binary's -timeout (a
// failure that names what it waited for rather than a panic): a test
// must not depend on the machine's speed, yet a stuck one ends. A step
// that shows no progress while it works (a first batch run) needs a
// stall that covers it on a loaded machine.
func Await(tb testing.TB, stall time.Duration, what string, cond func() error) {
	tb.Helper()
	start := time.Now()
	end, capped := start.Add(4*stall), false
	if d, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok && dl.Add(-time.Minute).Before(end) {
			end, capped = dl.Add(-time.Minute), true
		}
	}
	last, moved := "", start
	// Polls at 10 ms first, then less often, up to 4 a second.
	for poll := 10 * time.Millisecond; ; poll = min(2*poll, 250*time.Millisecond) {
		err := cond()
		if err == nil {
			return
		}
		now := time.Now()
		if s := err.Error(); s != last {
			last, moved = s, now
		}
		switch {
		case now.Sub(moved) > stall:
			tb.Fatalf("waiting for %s: nothing moved for %s (%s in all): %v", what, stall, now.Sub(start).Round(time.Second), err)
		case now.After(end) && capped:
			tb.Fatalf("waiting for %s: not there after %s, with the test binary's -timeout less than a minute away (the package ran out of time): %v",
				what, now.Sub(start).Round(time.Second), err)
		case now.After(end):
			tb.Fatalf("waiting for %s: still moving but not there after %s: %v", what, now.Sub(start).Round(time.Second), err)
		}
		time.Sleep(poll)
	}
}
