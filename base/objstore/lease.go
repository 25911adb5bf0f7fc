package objstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/loglambda/loglambda/base/proc"
)

// DefaultLeaseTTL is how long a lease outlives its holder's last renewal:
// the time a writer killed on another machine blocks the next one. A
// holder renews every third of it.
const DefaultLeaseTTL = time.Minute

// Lease is one writer's exclusive hold on a store, kept in an object: a
// bucket has no flock. It is taken by creating the object only if absent
// (or replacing an expired one, or one whose holder is a process on this
// machine that no longer runs, only if unchanged since read), and renewed
// by replacing it only if unchanged since the last renewal. A holder that
// cannot renew in time has lost it, and Check says so before each commit.
type Lease struct {
	store  Store
	key    string
	ttl    time.Duration
	holder leaseDoc

	mu      sync.Mutex
	version string
	until   time.Time // our own view of the expiry, from the last renewal's start
	lost    error

	stop chan struct{}
	done chan struct{}
}

// leaseDoc is the lease object.
type leaseDoc struct {
	// Holder names the process: host, a random token, and proc.Self's
	// form (boot id, pid namespace, pid) for the same-machine check.
	Host    string    `json:"host"`
	Token   string    `json:"token"`
	Proc    string    `json:"proc,omitempty"`
	Expires time.Time `json:"expires"`
}

// TakeLease takes the lease at key, or fails at once naming its holder.
func TakeLease(ctx context.Context, store Store, key string, ttl time.Duration) (*Lease, error) {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	host, _ := os.Hostname()
	var tok [8]byte
	rand.Read(tok[:])
	l := &Lease{store: store, key: key, ttl: ttl,
		holder: leaseDoc{Host: host, Token: hex.EncodeToString(tok[:]), Proc: proc.Self()},
		stop:   make(chan struct{}), done: make(chan struct{})}
	cond := IfAbsent()
	data, v, err := store.Get(ctx, key)
	switch {
	case errors.Is(err, ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("take lease %s: %w", key, err)
	default:
		var cur leaseDoc
		if jerr := json.Unmarshal(data, &cur); jerr != nil {
			return nil, fmt.Errorf("take lease %s/%s: %w", store, key, jerr)
		}
		if time.Now().Before(cur.Expires) && !proc.Gone(l.holder.Proc, cur.Proc) {
			return nil, fmt.Errorf("take lease %s/%s: held by %s (token %s) until %s: another batch run is writing this lake",
				store, key, cur.Host, cur.Token, cur.Expires.Format(time.RFC3339))
		}
		cond = IfVersion(v)
	}
	if err := l.renew(ctx, cond); err != nil {
		if errors.Is(err, ErrPrecondition) {
			return nil, fmt.Errorf("take lease %s/%s: another run took it first: %w", store, key, err)
		}
		return nil, fmt.Errorf("take lease %s/%s: %w", store, key, err)
	}
	go l.keep()
	return l, nil
}

// renew writes the lease with a new expiry under cond.
func (l *Lease) renew(ctx context.Context, cond Cond) error {
	start := time.Now()
	doc := l.holder
	doc.Expires = start.Add(l.ttl)
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	v, err := l.store.Put(ctx, l.key, data, cond)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.version, l.until = v, start.Add(l.ttl)
	l.mu.Unlock()
	return nil
}

// keep renews the lease every third of its ttl until Release.
func (l *Lease) keep() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		v, lost := l.version, l.lost
		l.mu.Unlock()
		if lost != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		err := l.renew(ctx, IfVersion(v))
		cancel()
		if errors.Is(err, ErrPrecondition) {
			l.mu.Lock()
			l.lost = fmt.Errorf("lease %s/%s taken by another run: %w", l.store, l.key, err)
			l.mu.Unlock()
			return
		}
		// Other errors (a network blip) are retried at the next tick;
		// Check fails once the lease may have expired meanwhile.
	}
}

// Check returns an error when the lease is lost or may expire within a
// margin: a commit must not start then, as another run may be taking over.
func (l *Lease) Check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	if time.Until(l.until) < l.ttl/3 {
		return fmt.Errorf("lease %s/%s: not renewed since %s", l.store, l.key, l.until.Add(-l.ttl).Format(time.RFC3339))
	}
	return nil
}

// Release stops renewing and marks the lease expired if it is still ours,
// so the next run need not wait for it. The object stays: deleting it
// cannot be made conditional, and an unconditional delete could remove a
// lease the next run has just taken.
func (l *Lease) Release() error {
	close(l.stop)
	<-l.done
	if l.Check() != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l.holder.Expires = time.Time{}
	data, _ := json.Marshal(l.holder)
	l.mu.Lock()
	v := l.version
	l.mu.Unlock()
	if _, err := l.store.Put(ctx, l.key, data, IfVersion(v)); err != nil {
		return fmt.Errorf("release lease %s/%s: %w", l.store, l.key, err)
	}
	return nil
}
