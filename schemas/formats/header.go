package formats

import (
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// Header parses lines laid out by a header template, the notation of the
// Loghub/logparser benchmark: "<Date> <Time> <Pid> <Level> <Component>:
// <Content>". Each <Field> captures a field; the text between fields is a
// regular expression in which a run of spaces matches one or more spaces.
//
// <Content> is the message (Event.Msg), the input of pattern mining. Level
// (normalised) and Component fill their Event fields; the time fields
// (Timestamp, Date, Time, Month, Day, Year...) become Event.Time when they
// read as a time; every other field goes to Event.Fields under its lower-case
// name.
//
// A line that does not fit the header is not an error: the whole line is
// the message, so nothing is lost and it still gets a pattern, and the
// parser counts it (Unmatched), because many such lines mean the header is
// wrong for this source.
type Header struct {
	spec      string
	re        *regexp.Regexp
	names     []string // submatch index -> field name ("" for none)
	unmatched atomic.Int64
	// tp holds --time-layout layouts, tried first on the joined time
	// fields; nil when none were given.
	tp *TimeParser
}

// setTimeParser implements timeConfigurable, so --time-layout reaches
// header times that none of the built-in layouts read.
func (h *Header) setTimeParser(tp *TimeParser) { h.tp = tp }

// headerField matches a <Field> placeholder.
var headerField = regexp.MustCompile(`<([A-Za-z_][A-Za-z0-9_]*)>`)

// spaceRun matches a run of spaces in the literal parts of a header.
var spaceRun = regexp.MustCompile(` +`)

// NewHeader compiles a header template (the part of the spec after
// "header:").
func NewHeader(template string) (*Header, error) {
	if template == "" {
		return nil, fmt.Errorf("header format: empty template (want e.g. header:<Date> <Time> <Level> <Content>)")
	}
	var b strings.Builder
	b.WriteString("^")
	seen := map[string]bool{}
	last := 0
	for _, loc := range headerField.FindAllStringSubmatchIndex(template, -1) {
		b.WriteString(spaceRun.ReplaceAllString(template[last:loc[0]], `\s+`))
		name := template[loc[2]:loc[3]]
		if seen[name] {
			return nil, fmt.Errorf("header format %q: field <%s> appears twice", template, name)
		}
		seen[name] = true
		if name == "Content" {
			fmt.Fprintf(&b, "(?P<%s>.*)", name)
		} else {
			fmt.Fprintf(&b, "(?P<%s>.*?)", name)
		}
		last = loc[1]
	}
	b.WriteString(spaceRun.ReplaceAllString(template[last:], `\s+`))
	b.WriteString("$")
	if !seen["Content"] {
		return nil, fmt.Errorf("header format %q: no <Content> field", template)
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("header format %q: %w", template, err)
	}
	return &Header{spec: "header:" + template, re: re, names: re.SubexpNames()}, nil
}

// Spec implements Parser.
func (h *Header) Spec() string { return h.spec }

// Unmatched is the number of lines that did not fit the header and were
// kept whole as their message.
func (h *Header) Unmatched() int64 { return h.unmatched.Load() }

// timeFields are the header fields read as the event time, lower-cased.
var timeFields = map[string]bool{
	"timestamp": true, "datetime": true, "date": true, "time": true,
	"month": true, "day": true, "year": true,
}

// headerTimeLayouts are tried on the time fields joined by spaces in
// template order (Date Time, Month Date Time...). Layouts without a year
// take the year of the ingest time.
var headerTimeLayouts = []string{
	"060102 150405",              // HDFS: 081109 203615
	"2006-01-02-15.04.05.000000", // BGL: 2005-06-03-15.42.50.675872
	"2006.01.02 2006-01-02-15.04.05.000000",
	"2006-01-02 15:04:05,000", // log4j
	"2006-01-02 15:04:05.000",
	"2006-01-02 15:04:05",
	"2006/01/02 15:04:05",
	"06/01/02 15:04:05", // Spark
	"Jan 2 15:04:05",    // syslog
	"Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 2006",
	"01.02 15:04:05",        // Proxifier
	"01-02 15:04:05.000",    // Android
	"20060102-15:04:05:000", // HealthApp
	"2006-01-02T15:04:05.000",
}

// Parse implements Parser.
func (h *Header) Parse(line []byte, ev *event.Event) error {
	s := strings.TrimRight(string(line), "\r\n")
	m := h.re.FindStringSubmatchIndex(s)
	if m == nil {
		h.unmatched.Add(1)
		ev.Msg = s
		return nil
	}
	var timeParts []string
	var timeNames []string
	for i := 1; i < len(h.names); i++ {
		name := h.names[i]
		if name == "" || m[2*i] < 0 {
			continue
		}
		v := s[m[2*i]:m[2*i+1]]
		lname := strings.ToLower(name)
		switch {
		case name == "Content":
			ev.Msg = v
		case lname == "level":
			ev.Level = NormalizeLevel(v)
		case lname == "component":
			ev.Component = v
		case timeFields[lname]:
			timeParts = append(timeParts, v)
			timeNames = append(timeNames, lname)
		default:
			setField(ev, lname, v)
		}
	}
	if len(timeParts) > 0 {
		t, ok := headerTime(h.tp, timeParts, timeNames, ev.IngestTime)
		if ok {
			ev.Time = t
		} else {
			for i, p := range timeParts {
				setField(ev, timeNames[i], p)
			}
		}
	}
	return nil
}

func setField(ev *event.Event, k, v string) {
	if ev.Fields == nil {
		ev.Fields = make(map[string]string)
	}
	ev.Fields[k] = v
}

// headerTime reads the time fields: a timestamp field alone when it is one
// (BGL has an epoch Timestamp), else all time fields joined. Layouts given
// by the user (tp) win over the built-in guesses.
func headerTime(tp *TimeParser, parts, names []string, ingest time.Time) (time.Time, bool) {
	joined := strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
	if tp != nil && len(tp.layouts) > 0 {
		for _, l := range tp.layouts {
			if t, err := time.Parse(l, joined); err == nil {
				return withYear(t, ingest).UTC(), true
			}
		}
	}
	for i, n := range names {
		if n == "timestamp" || n == "datetime" {
			if t, err := ParseTime(parts[i]); err == nil {
				return t, true
			}
		}
	}
	if t, err := ParseTime(joined); err == nil {
		return t, true
	}
	for _, l := range headerTimeLayouts {
		t, err := time.Parse(l, joined)
		if err != nil {
			continue
		}
		if t.Year() == 0 {
			year := ingest.Year()
			if ingest.IsZero() {
				return time.Time{}, false
			}
			t = t.AddDate(year, 0, 0)
		}
		return t.UTC(), true
	}
	// The last time field alone (e.g. "Time" holding a full date).
	if t, err := ParseTime(parts[len(parts)-1]); err == nil {
		return t, true
	}
	return time.Time{}, false
}
