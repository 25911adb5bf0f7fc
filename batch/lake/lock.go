//go:build unix

package lake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/loglambda/loglambda/base/objstore"
)

// lockName is the lock file in a local lake's topic directory.
const lockName = "_lock"

// leaseName is the lease object of a remote lake's topic.
const leaseName = "_lease.json"

// Lock takes the lake's writer lock, failing at once when another process
// holds it: two compactions at the same time would each take the other's
// fresh files for orphans. In a local lake the lock is an flock, so the
// kernel releases it when a crashed run's process dies; there is no stale
// lock to clean up. A remote lake has no flock: the lock is a lease object
// (objstore.Lease), renewed while held, taken over once it expires or at
// once when its holder was a process of this machine that is gone (a run
// killed and started again).
func (l *Lake) Lock(ctx context.Context) (unlock func() error, err error) {
	if l.Remote() {
		ls, err := objstore.TakeLease(ctx, l.store, l.key(leaseName), 0)
		if err != nil {
			return nil, fmt.Errorf("lock lake: %w", err)
		}
		l.lease = ls
		return func() error {
			l.lease = nil
			return ls.Release()
		}, nil
	}
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
