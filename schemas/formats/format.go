// Package formats turns raw log lines into events. A Parser is chosen by a
// spec string on the command line (--format): "json", "combined", "header:<...>"
// and so on; New maps the spec to its Parser.
//
// Parsers never drop a line: a line that does not parse comes back as an
// error from Parse, and ParseLine turns that into an event with ParseError set
// and the raw line kept, so it still reaches the lake and is counted.
package formats

import (
	"fmt"
	"strings"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// Parser parses one line into ev. ev arrives zeroed except for Raw,
// IngestTime and provenance; Parse fills what it finds. On error the caller
// keeps the event with ParseError set, so a Parser may leave ev half filled.
// A Parser must be safe for use by one goroutine at a time; New returns a
// fresh one per call.
type Parser interface {
	Parse(line []byte, ev *event.Event) error
	// Spec is the string that New accepts to build this parser again; it
	// travels with records as a Kafka header.
	Spec() string
}

// New returns the parser for spec. Known specs:
//
//	json                   one JSON object per line (see JSON)
//	json:ts=@timestamp     the same, reading Event fields from other keys
//	combined               Apache/nginx combined access log (see AccessLog)
//	common                 Apache common (NCSA) access log
//	regex:<regexp>         a Go regexp whose named groups fill fields (see Regex)
//	grok:<pattern>         a grok pattern, e.g. grok:%{COMBINEDAPACHELOG} (see Grok)
//	header:<template>      Loghub-style header template, e.g.
//	                       header:<Date> <Time> <Level> <Component>: <Content> (see Header)
//	opts:<options>:<spec>  spec with options such as time layouts, as written
//	                       by NewWithOptions so that Spec rebuilds the parser
//
// Multi-line records (stack traces) are grouped before parsing, by
// Multiline, not by a format.
func New(spec string) (Parser, error) {
	name, arg, _ := strings.Cut(spec, ":")
	switch name {
	case "json":
		return parser(NewJSON(arg))
	case "header":
		return parser(NewHeader(arg))
	case "combined", "common":
		if arg != "" {
			return nil, fmt.Errorf("format %q: %s takes no argument", spec, name)
		}
		if name == "common" {
			return NewCommon(), nil
		}
		return NewCombined(), nil
	case "regex":
		return parser(NewRegex(arg))
	case "grok":
		return parser(NewGrok(arg))
	case "opts":
		return newOptsSpec(arg)
	}
	return nil, fmt.Errorf("unknown format %q (known: json, combined, common, regex:<regexp>, grok:<pattern>, header:<...>)", spec)
}

// ParseLine parses line with p into a fresh event, never failing: a parse
// error is recorded in the event. Events without a usable time get ingest as
// their time and TimeMissing set. hot may be nil.
func ParseLine(p Parser, hot *HotTerm, line []byte, ingest time.Time) event.Event {
	var ev event.Event
	ParseLineTo(&ev, p, hot, line, ingest)
	return ev
}

// ParseLineTo is ParseLine into *ev, which it overwrites whole. A consumer
// that parses one record at a time passes the same event each time: the
// event passes through the Parser interface, so a fresh one escapes to the
// heap, and at several hundred bytes that allocation (and the copies of
// returning it) cost as much as a fifth of the parse.
func ParseLineTo(ev *event.Event, p Parser, hot *HotTerm, line []byte, ingest time.Time) {
	parseLineTo(ev, p, nil, "", hot, line, ingest)
}

// textParser is implemented by parsers that read a line from its text
// (the line as UTF-8, trailing CR/LF removed), every field a substring
// of it: ParseBorrowedTo hands them the line's own bytes as that text.
type textParser interface {
	parseText(s string, ev *event.Event) error
}

// ParseBorrowedTo is ParseLineTo without the copy of the line that
// parsers slice their fields from: the event's strings share line's bytes
// when p reads a line from its text and the line is UTF-8 (else it is
// ParseLineTo). For a consumer that copies the fields out before line
// goes (compaction's Parquet pages), never for one that keeps them: a
// kept field would hold its whole line, and line must not change while
// the event is in use. The event is the one ParseLineTo gives.
func ParseBorrowedTo(ev *event.Event, p Parser, hot *HotTerm, line []byte, ingest time.Time) {
	if tp, ok := p.(textParser); ok {
		if s, ok := borrowedText(line); ok {
			parseLineTo(ev, p, tp, s, hot, line, ingest)
			return
		}
	}
	parseLineTo(ev, p, nil, "", hot, line, ingest)
}

// parseLineTo is ParseLineTo with p reading text through tp when tp is
// not nil.
func parseLineTo(ev *event.Event, p Parser, tp textParser, text string, hot *HotTerm, line []byte, ingest time.Time) {
	*ev = event.Event{Raw: line, IngestTime: ingest.UTC(), Format: p.Spec()}
	var err error
	if tp != nil {
		err = tp.parseText(text, ev)
	} else {
		err = p.Parse(line, ev)
	}
	if err != nil {
		*ev = event.Event{Raw: line, IngestTime: ingest.UTC(), Format: p.Spec(), ParseError: err.Error()}
	}
	if ev.Time.IsZero() {
		ev.Time = ev.IngestTime
		ev.TimeMissing = true
	}
	ev.Time = ev.Time.UTC()
	if hot != nil && ev.ParseError == "" {
		ev.HotTerm = hot.Extract(ev)
	}
}
