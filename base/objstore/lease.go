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
	read := time.Now()
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
	if Emulated(store) {
		if err := l.confirm(ctx, read); err != nil {
			return nil, fmt.Errorf("take lease %s/%s: %w", store, key, err)
		}
	}
	go l.keep()
	return l, nil
}

// Emulated reports whether store emulates conditional writes by a read
// before the write (an S3 server without them; see S3).
func Emulated(store Store) bool {
	c, ok := store.(interface{ Conditional() bool })
	return ok && !c.Conditional()
}

// leaseGap bounds, where conditional writes are emulated, the time from a
// taker's read of the lease to the end of its write; leaseSettle, longer,
// is how long it then waits before reading the lease back.
const (
	leaseGap    = 2 * time.Second
	leaseSettle = 2 * leaseGap
)

// confirm makes a takeover safe where two takers can both pass the
// emulated condition (both read the lease free, both write it). Each
// taker's write ends within leaseGap of its read, and a rival's read came
// before our write landed (else it saw our lease and gave up), so a
// rival's write lands before our write's end plus leaseGap: reading back
// after leaseSettle, longer, sees the last writer's lease. Only that one
// keeps it; the others fail as if the condition had failed. (With real
// conditional writes the server already refused them.)
func (l *Lease) confirm(ctx context.Context, read time.Time) error {
	if gap := time.Since(read); gap > leaseGap {
		return fmt.Errorf("the read and write of the lease took %s (more than %s), too slow to be sure no other run took it meanwhile: %w", gap.Round(time.Millisecond), leaseGap, ErrPrecondition)
	}
	select {
	case <-time.After(leaseSettle):
	case <-ctx.Done():
		return ctx.Err()
	}
	data, v, err := l.store.Get(ctx, l.key)
	if err != nil {
		return err
	}
	var cur leaseDoc
	if err := json.Unmarshal(data, &cur); err != nil {
		return err
	}
	if cur.Token != l.holder.Token {
		return fmt.Errorf("another run took it at the same time (%s, token %s): %w", cur.Host, cur.Token, ErrPrecondition)
	}
	l.mu.Lock()
	l.version = v
	l.mu.Unlock()
	return nil
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

// Deadline is when a commit started now must have ended: a margin
// before the lease may expire and another run take over. The lake bounds
// its manifest save by it, so that a writer paused past its lease (GC,
// SIGSTOP) cannot land a save after its successor started; with emulated
// conditional writes nothing else would stop it.
func (l *Lease) Deadline() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until.Add(-l.ttl / 6)
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
