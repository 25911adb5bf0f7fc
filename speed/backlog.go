package speed

import (
	"context"
	"log/slog"
	"time"
)

// Backlog is how far the layer's writes to MongoDB are behind what it has
// applied: the documents waiting to be written (dirty panes, and those of
// the flush in flight not written yet) and the oldest pane among them.
// When MongoDB is slow or unreachable this is what grows; the lag of the
// partitions (records not applied) is another matter.
type Backlog struct {
	// PendingDocs is the number of view documents waiting to be written.
	PendingDocs int64
	// OldestPending is the start of the oldest pane waiting; zero when
	// nothing waits.
	OldestPending time.Time
	// FailingSince is when flushes started failing, zero while they
	// succeed; LastError is the last failure.
	FailingSince time.Time
	LastError    string
	// SkippedPanes counts the panes not written because batch had already
	// recomputed their hour (see skip.go); SkippedDocs their documents.
	SkippedPanes, SkippedDocs int64
}

// backlogReportEvery is how often, at most, the layer logs that it is
// behind: once per interval, not once per failed flush (a flush is retried
// every flush interval).
const backlogReportEvery = 30 * time.Second

// backlogState is what the flushes record for Backlog and for the log,
// under Speed.mu.
type backlogState struct {
	// inflight are the documents of the flush being written that are not
	// written yet, and the oldest of their panes.
	inflight       int64
	inflightOldest time.Time
	failingSince   time.Time
	lastErr        error
	lastReport     time.Time
	skippedPanes   int64
	skippedDocs    int64
}

// backlog returns the layer's backlog; s.mu must be held.
func (s *Speed) backlog() Backlog {
	b := Backlog{
		PendingDocs: s.bl.inflight, OldestPending: s.bl.inflightOldest,
		FailingSince: s.bl.failingSince,
		SkippedPanes: s.bl.skippedPanes, SkippedDocs: s.bl.skippedDocs,
	}
	if s.bl.lastErr != nil {
		b.LastError = s.bl.lastErr.Error()
	}
	for _, p := range s.parts {
		for _, ps := range p.panes {
			if !ps.dirty {
				continue
			}
			b.PendingDocs += int64(len(ps.offsets))
			if b.OldestPending.IsZero() || ps.start.Before(b.OldestPending) {
				b.OldestPending = ps.start
			}
		}
	}
	return b
}

// Backlog returns what waits to be written; safe to call while Run runs.
func (s *Speed) Backlog() Backlog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backlog()
}

// reportFlush records a flush's outcome and logs the backlog: at once when
// flushes start failing or recover, otherwise at most once per
// backlogReportEvery while flushes fail (ERROR) or take longer than the
// flush interval (INFO: catching up).
func (s *Speed) reportFlush(err error, took time.Duration) {
	s.mu.Lock()
	now := time.Now()
	wasFailing := !s.bl.failingSince.IsZero()
	if err != nil {
		if !wasFailing {
			s.bl.failingSince = now
		}
		s.bl.lastErr = err
	} else {
		s.bl.failingSince, s.bl.lastErr = time.Time{}, nil
	}
	b := s.backlog()
	due := now.Sub(s.bl.lastReport) >= backlogReportEvery
	var level slog.Level
	var msg string
	switch {
	case err != nil && (!wasFailing || due):
		level, msg = slog.LevelError, "speed behind: writes to MongoDB fail; retrying every flush interval"
	case err == nil && wasFailing:
		level, msg = slog.LevelInfo, "speed writes to MongoDB work again"
	case err == nil && took > s.cfg.flushInterval && b.PendingDocs > 0 && due:
		level, msg = slog.LevelInfo, "speed catching up: MongoDB writes are slower than the flush interval"
	default:
		s.mu.Unlock()
		return
	}
	s.bl.lastReport = now
	s.mu.Unlock()
	attrs := []any{"pending_docs", b.PendingDocs, "flush_took", took.Round(time.Millisecond)}
	if !b.OldestPending.IsZero() {
		attrs = append(attrs, "oldest_pending_pane", b.OldestPending.UTC().Format(time.RFC3339), "behind", now.Sub(b.OldestPending).Round(time.Second))
	}
	if err != nil {
		attrs = append(attrs, "failing_for", now.Sub(b.FailingSince).Round(time.Second), "err", err)
	}
	s.cfg.Logger.Log(context.Background(), level, msg, attrs...)
}
