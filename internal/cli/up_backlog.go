package cli

import "github.com/loglambda/loglambda/serving"

// backlogs reports how far speed and batch are behind in writing their
// views, for /v1/status.
func (s *stack) backlogs() []serving.Backlog {
	sb := s.speed.Backlog()
	bb := s.batch.Backlog()
	var blocked string
	if p := s.credsProblem.Load(); p != nil {
		blocked = *p
	}
	return []serving.Backlog{
		{Layer: "speed", PendingDocs: sb.PendingDocs, OldestPending: sb.OldestPending,
			FailingSince: sb.FailingSince, LastError: sb.LastError,
			SkippedPanes: sb.SkippedPanes, SkippedDocs: sb.SkippedDocs, Blocked: blocked},
		{Layer: "batch", PendingHours: bb.PendingHours, OldestPending: bb.OldestPending,
			FailingSince: bb.FailingSince, LastError: bb.LastError, Blocked: blocked},
	}
}
