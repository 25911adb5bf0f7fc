package testkit

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// fatalTB records Fatalf and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// await runs Await on a fatalTB and returns its failure ("" when none).
func await(t *testing.T, stall time.Duration, cond func() error) string {
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Await(f, stall, "the test", cond)
	}()
	<-done
	return f.msg
}

func TestAwait(t *testing.T) {
	const stall = 100 * time.Millisecond
	// Moving for 3 stalls, then there: waited for.
	start, n := time.Now(), 0
	if msg := await(t, stall, func() error {
		if time.Since(start) > 3*stall {
			return nil
		}
		n++
		return fmt.Errorf("step %d", n)
	}); msg != "" {
		t.Errorf("moving then done: %s", msg)
	}
	// Stuck: fails after the stall, not before.
	start = time.Now()
	msg := await(t, stall, func() error { return fmt.Errorf("stuck") })
	if took := time.Since(start); msg == "" || took < stall {
		t.Errorf("stuck: failed after %s with %q, want after %s", took, msg, stall)
	}
	// Moving forever: fails after 4 stalls in all.
	start, n = time.Now(), 0
	msg = await(t, stall, func() error { n++; return fmt.Errorf("step %d", n) })
	if took := time.Since(start); msg == "" || took < 4*stall {
		t.Errorf("moving forever: failed after %s with %q, want after %s", took, msg, 4*stall)
	}
}
