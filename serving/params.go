package serving

import (
	"fmt"
	"time"
)

// paramError is a bad query parameter: a 400 answer over HTTP, an
// INVALID_ARGUMENT status over gRPC, both with this message naming the
// parameter and the value.
type paramError struct {
	param, value, reason string
}

func (e *paramError) Error() string {
	return fmt.Sprintf("parameter %s=%q: %s", e.param, e.value, e.reason)
}

func badParam(param, value, format string, args ...any) error {
	return &paramError{param: param, value: value, reason: fmt.Sprintf(format, args...)}
}

// defaultRange is the query range when From is not given: the hour before
// To.
const defaultRange = time.Hour

// defaultK is the number of hot terms answered when K is not given.
const defaultK = 10

// Range is the time range [From, To) of a query. A zero To means now, a
// zero From an hour before To: the zero Range is the last hour.
type Range struct {
	From, To time.Time
}

// span is a query range widened to whole panes, as Unix seconds: the panes
// overlapping the asked [from, to).
type span struct {
	from, to int64
}

func (sp span) fromTime() time.Time { return time.Unix(sp.from, 0).UTC() }
func (sp span) toTime() time.Time   { return time.Unix(sp.to, 0).UTC() }

// bounds fills in r's defaults (to: now; from: back before to) and checks
// that from is before to.
func (s *Server) bounds(r Range, back time.Duration) (from, to time.Time, err error) {
	to = r.To
	if to.IsZero() {
		to = s.cfg.now()
	}
	from = r.From
	if from.IsZero() {
		from = to.Add(-back)
	}
	if !from.Before(to) {
		return from, to, badParam("from", paramTime(r.From), "from %s is not before to %s", fmtTime(from), fmtTime(to))
	}
	return from, to, nil
}

// span fills in r's defaults, checks from < to and the range limit, then
// widens the range to whole panes.
func (s *Server) span(r Range) (span, error) {
	from, to, err := s.bounds(r, defaultRange)
	if err != nil {
		return span{}, err
	}
	if d := to.Sub(from); d > s.cfg.maxRange {
		return span{}, badParam("to", paramTime(r.To), "range %s from %s is longer than the allowed %s", d, fmtTime(from), s.cfg.maxRange)
	}
	pane := s.paneSeconds()
	f := from.Unix()
	f -= mod(f, pane)
	t := to.Unix()
	if to.Nanosecond() != 0 || mod(t, pane) != 0 {
		t += pane - mod(t, pane)
	}
	return span{from: f, to: t}, nil
}

// paramTime is a time as named in an error: as a client would have written
// it, empty when not given.
func paramTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// checkK checks k, the number of top terms: a positive integer up to the
// limit; 0 means defaultK (10).
func (s *Server) checkK(k int) (int, error) {
	switch {
	case k == 0:
		return defaultK, nil
	case k < 0:
		return 0, badParam("k", fmt.Sprint(k), "not a positive integer")
	case k > s.cfg.maxK:
		return 0, badParam("k", fmt.Sprint(k), "larger than the allowed %d", s.cfg.maxK)
	}
	return k, nil
}

// checkStep checks the traffic series step, in seconds: a positive multiple
// of the pane, the pane when 0. It also checks the number of buckets over
// sp.
func (s *Server) checkStep(d time.Duration, sp span) (int64, error) {
	step := s.paneSeconds()
	if d != 0 {
		if d < 0 || d%s.cfg.pane != 0 {
			return 0, s.badStep(d.String())
		}
		step = int64(d / time.Second)
	}
	first := sp.from - mod(sp.from, step)
	if n := (sp.to - first + step - 1) / step; n > int64(s.cfg.maxBuckets) {
		return 0, badParam("step", paramDuration(d), "%d buckets from %s to %s, more than the allowed %d",
			n, sp.fromTime().Format(time.RFC3339), sp.toTime().Format(time.RFC3339), s.cfg.maxBuckets)
	}
	return step, nil
}

// givenStep checks a step a client gave, as value (its text on the wire):
// zero is refused, since only an absent step means the pane. HTTP (?step=)
// and gRPC (a set step) both call it, so ?step=0s and step {} are refused
// alike; the rest of the checks are checkStep's, in the query layer.
func givenStep(d time.Duration, value string) (time.Duration, error) {
	if d == 0 {
		return 0, badParam("step", value, "zero; leave step out for one bucket per pane")
	}
	return d, nil
}

// badStep is the error of a step that is not a positive multiple of the
// pane.
func (s *Server) badStep(value string) error {
	return badParam("step", value, "not a positive multiple of the pane %s", s.cfg.pane)
}

// paramDuration is a duration as named in an error, empty when not given.
func paramDuration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// mod is the non-negative remainder, so that times before the epoch align
// to the same grid.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
