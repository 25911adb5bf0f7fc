package batch

import (
	"sync"
	"time"
)

// Backlog is how far the batch views are behind the lake, as of the last
// recompute: complete hours not recomputed (new or dirty), and whether
// runs fail.
type Backlog struct {
	// PendingHours are the complete hours the last recompute did not get
	// to (it failed before them); OldestPending the first of them.
	PendingHours  int
	OldestPending time.Time
	// FailingSince is when runs started failing, zero while they work;
	// LastError is the last failure.
	FailingSince time.Time
	LastError    string
}

// backlogState is what recompute and Run record for Backlog.
type backlogState struct {
	mu           sync.Mutex
	pending      []time.Time
	failingSince time.Time
	lastErr      error
}

// Backlog returns the batch layer's backlog; safe to call while a run runs.
func (b *Batch) Backlog() Backlog {
	b.bl.mu.Lock()
	defer b.bl.mu.Unlock()
	out := Backlog{PendingHours: len(b.bl.pending), FailingSince: b.bl.failingSince}
	if len(b.bl.pending) > 0 {
		out.OldestPending = b.bl.pending[0]
	}
	if b.bl.lastErr != nil {
		out.LastError = b.bl.lastErr.Error()
	}
	return out
}

// setPending records the hours a recompute still has to do, ascending.
func (b *Batch) setPending(hours []time.Time) {
	b.bl.mu.Lock()
	defer b.bl.mu.Unlock()
	b.bl.pending = append(b.bl.pending[:0], hours...)
}

// recordRun records a run's outcome.
func (b *Batch) recordRun(err error) {
	b.bl.mu.Lock()
	defer b.bl.mu.Unlock()
	if err == nil {
		b.bl.failingSince, b.bl.lastErr = time.Time{}, nil
		return
	}
	if b.bl.failingSince.IsZero() {
		b.bl.failingSince = time.Now()
	}
	b.bl.lastErr = err
}
