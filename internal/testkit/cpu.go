package testkit

import (
	"syscall"
	"time"
)

// CPUTime is the user and system CPU time the process used so far (0 when
// the system does not say). Benchmarks on the shared machine print rates
// per CPU-second beside wall rates: a wall rate holds the waits for a core
// that other processes took, a CPU rate does not.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
