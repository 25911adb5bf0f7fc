package formats

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/loglambda/loglambda/schemas/event"
)

// Regex parses lines with a Go regexp (RE2 syntax, so matching is linear in
// the line whatever the pattern). Named groups called as the Event fields
// (ts, host, instance, level, component, user, ip, method, path, url, query,
// status, bytes, latency_ms, msg) fill them; other named groups are kept in
// Event.Fields. A group that did not take part in the match, or matched
// nothing, is absent. A line the pattern does not match is an error, so it
// is kept as a parse-error event. The pattern is not anchored: write ^ and $
// to match whole lines.
//
// When the pattern has a status but no level, the level follows the status
// as for access logs (5xx ERROR, 4xx WARN, else INFO).
type Regex struct {
	spec string
	re   *regexp.Regexp
	// field[i] is the Event field of group i, or "" to keep it in Fields.
	field []string
	tp    *TimeParser
}

// NewRegex compiles pattern, which must have at least one named group
// (without one a match would carry nothing but the raw line).
func NewRegex(pattern string) (*Regex, error) {
	if pattern == "" {
		return nil, errors.New("format regex: empty pattern (want regex:<Go regexp with named groups>)")
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("format regex: %w", err)
	}
	r := &Regex{spec: "regex:" + pattern, re: re, field: make([]string, re.NumSubexp()+1)}
	named := false
	for i, name := range re.SubexpNames() {
		if name == "" {
			continue
		}
		named = true
		if isEventField(name) {
			r.field[i] = name
		}
	}
	if !named {
		return nil, fmt.Errorf("format regex %q: no named group (write (?P<msg>.*) and the like)", pattern)
	}
	return r, nil
}

// Spec implements Parser.
func (r *Regex) Spec() string { return r.spec }

// setTimeParser implements timeConfigurable.
func (r *Regex) setTimeParser(tp *TimeParser) { r.tp = tp }

// Parse implements Parser.
func (r *Regex) Parse(line []byte, ev *event.Event) error {
	s := lineText(line)
	m := r.re.FindStringSubmatchIndex(s)
	if m == nil {
		return fmt.Errorf("regex: line does not match %q", clip(r.re.String()))
	}
	names := r.re.SubexpNames()
	for i := 1; i < len(names); i++ {
		if names[i] == "" || m[2*i] < 0 || m[2*i] == m[2*i+1] {
			continue
		}
		text := s[m[2*i]:m[2*i+1]]
		if f := r.field[i]; f != "" {
			if err := setEventField(ev, r.tp, f, names[i], text); err != nil {
				return fmt.Errorf("regex: %w", err)
			}
		} else {
			putField(ev, names[i], text)
		}
	}
	if ev.Level == "" && ev.Status > 0 {
		ev.Level = statusLevel(ev.Status)
	}
	return nil
}
