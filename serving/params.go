package serving

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// paramError is a bad query parameter; it becomes a 400 answer naming the
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

// defaultRange is the query range when from is not given: the last hour.
const defaultRange = time.Hour

// span is a query range widened to whole panes, as Unix seconds: the panes
// overlapping the asked [from, to).
type span struct {
	from, to int64
}

func (sp span) fromTime() time.Time { return time.Unix(sp.from, 0).UTC() }
func (sp span) toTime() time.Time   { return time.Unix(sp.to, 0).UTC() }

// parseRange reads from and to (RFC 3339, or Unix seconds): to defaults to
// now, from to an hour before to. It checks from < to and the range limit,
// then widens the range to whole panes.
func (s *Server) parseRange(q url.Values) (span, error) {
	to := s.cfg.now()
	if v := q.Get("to"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return span{}, badParam("to", v, "%v", err)
		}
		to = t
	}
	from := to.Add(-defaultRange)
	if v := q.Get("from"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return span{}, badParam("from", v, "%v", err)
		}
		from = t
	}
	if !from.Before(to) {
		return span{}, badParam("from", q.Get("from"), "from %s is not before to %s", fmtTime(from), fmtTime(to))
	}
	if d := to.Sub(from); d > s.cfg.maxRange {
		return span{}, badParam("to", q.Get("to"), "range %s from %s is longer than the allowed %s", d, fmtTime(from), s.cfg.maxRange)
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

// parseTime accepts RFC 3339 (any offset, fractions allowed) or Unix
// seconds.
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("not an RFC 3339 time (2006-01-02T15:04:05Z) or Unix seconds")
}

// defaultK is the number of hot terms answered when k is not given.
const defaultK = 10

// parseK reads k, the number of top terms: a positive integer up to the
// limit.
func (s *Server) parseK(q url.Values) (int, error) {
	v := q.Get("k")
	if v == "" {
		return defaultK, nil
	}
	k, err := strconv.Atoi(v)
	if err != nil || k <= 0 {
		return 0, badParam("k", v, "not a positive integer")
	}
	if k > s.cfg.maxK {
		return 0, badParam("k", v, "larger than the allowed %d", s.cfg.maxK)
	}
	return k, nil
}

// parseStep reads the traffic series step (a Go duration such as 5m): a
// positive multiple of the pane, defaulting to the pane. It also checks the
// number of buckets over sp.
func (s *Server) parseStep(q url.Values, sp span) (int64, error) {
	pane := s.paneSeconds()
	v := q.Get("step")
	step := pane
	if v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, badParam("step", v, "not a duration (like 1m, 15m, 1h)")
		}
		if d <= 0 || d%s.cfg.pane != 0 {
			return 0, badParam("step", v, "not a positive multiple of the pane %s", s.cfg.pane)
		}
		step = int64(d / time.Second)
	}
	first := sp.from - mod(sp.from, step)
	if n := (sp.to - first + step - 1) / step; n > int64(s.cfg.maxBuckets) {
		return 0, badParam("step", v, "%d buckets from %s to %s, more than the allowed %d",
			n, sp.fromTime().Format(time.RFC3339), sp.toTime().Format(time.RFC3339), s.cfg.maxBuckets)
	}
	return step, nil
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
