//go:build unix

package lake

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockName is the lock file in the topic directory.
const lockName = "_lock"

// Lock takes the lake's writer lock, failing at once when another process
// holds it: two compactions at the same time would each take the other's
// fresh files for orphans. The lock is an flock, so the kernel releases it
// when a crashed run's process dies; there is no stale lock to clean up.
func (l *Lake) Lock() (unlock func() error, err error) {
	p := filepath.Join(l.dir, lockName)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock lake: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock lake %s: another batch run holds it: %w", p, err)
	}
	return f.Close, nil
}
