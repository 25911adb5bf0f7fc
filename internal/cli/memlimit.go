package cli

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
)

// registerMemoryLimit adds --memory-limit-mib, with default def, to a
// command that holds state in memory (up, speed). Without a limit the Go
// collector lets the heap grow to twice what the process holds before it
// runs; near the limit it works harder instead.
func registerMemoryLimit(fs *flag.FlagSet, mib *int64, def int64) {
	fs.Int64Var(mib, "memory-limit-mib", def, "soft limit of the process's Go memory in MiB (GOMEMLIMIT, which wins when set): the garbage collector works harder near it instead of letting the heap double what it holds; 0: no limit")
}

// checkMemoryLimit validates --memory-limit-mib.
func checkMemoryLimit(mib int64) error {
	if mib < 0 {
		return fmt.Errorf("--memory-limit-mib %d is negative", mib)
	}
	return nil
}

// applyMemoryLimit sets the runtime's soft memory limit to mib MiB, unless
// GOMEMLIMIT is set or mib is 0.
func applyMemoryLimit(mib int64) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && mib > 0 {
		debug.SetMemoryLimit(mib << 20)
	}
}
