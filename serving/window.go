package serving

import (
	"fmt"
	"time"
)

// WindowQuery asks for the range a chart of the last Last shows in about
// Points buckets, ending at To (now when zero). The dashboard asks it
// instead of aligning ranges itself, so the step/from/to rule is this
// one, with the server's pane and limits.
type WindowQuery struct {
	Last   time.Duration
	Points int
	To     time.Time
}

// WindowAnswer is a range every view answers as asked: Step a multiple of
// the pane, To aligned up to Step (so buckets do not slide between polls;
// the last one is in progress), From = To - Last.
type WindowAnswer struct {
	From, To time.Time
	Step     time.Duration
	// Pane is the server's pane, the finest step.
	Pane time.Duration
}

// maxWindowPoints bounds Points: a chart wider than the screen helps no
// one, and maxBuckets bounds every series anyway.
const maxWindowPoints = 2000

// Window answers q by the rules every query checks (span, checkStep).
func (s *Server) Window(q WindowQuery) (*WindowAnswer, error) {
	switch {
	case q.Last <= 0:
		return nil, badParam("last", paramDuration(q.Last), "not a positive duration")
	case q.Last > s.cfg.maxRange:
		return nil, badParam("last", paramDuration(q.Last), "longer than the allowed %s", s.cfg.maxRange)
	case q.Points <= 0 || q.Points > maxWindowPoints:
		return nil, badParam("points", fmt.Sprint(q.Points), "not an integer within 1..%d", maxWindowPoints)
	}
	pane := s.paneSeconds()
	want := int64((q.Last/time.Second + time.Duration(q.Points) - 1) / time.Duration(q.Points))
	step := max(pane, (want+pane-1)/pane*pane)
	to := q.To
	if to.IsZero() {
		to = s.cfg.now()
	}
	end := to.Unix()
	if to.Nanosecond() != 0 || mod(end, step) != 0 {
		end += step - mod(end, step)
	}
	r := Range{From: time.Unix(end, 0).Add(-q.Last), To: time.Unix(end, 0)}
	sp, err := s.span(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.checkStep(time.Duration(step)*time.Second, sp); err != nil {
		return nil, err
	}
	return &WindowAnswer{From: r.From.UTC(), To: r.To.UTC(), Step: time.Duration(step) * time.Second, Pane: s.cfg.pane}, nil
}
