package formats

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Defaults of the Multiline limits; the shipper prints them in --help.
const (
	// DefaultMultilineMaxLines caps the lines of one event: a Java stack
	// trace rarely passes 200 lines, so 500 keeps real traces whole while a
	// wrong start pattern cannot glue a whole file together.
	DefaultMultilineMaxLines = 500
	// DefaultMultilineMaxBytes caps the bytes of one event below Kafka's
	// default record limit (message.max.bytes, about 1 MB) with room for
	// headers and batch overhead, so a grouped event can always be produced.
	DefaultMultilineMaxBytes = 512 << 10
	// DefaultMultilineTimeout is how long a pending event waits for more
	// lines after its last one: long enough for a logger that writes a
	// stack trace in several writes, short enough for the speed layer.
	DefaultMultilineTimeout = 5 * time.Second
)

// MultilineOpt configures a Multiline.
type MultilineOpt func(*multilineCfg)

// multilineCfg holds the Multiline limits; NewMultiline starts from the
// defaults above and validates the result.
type multilineCfg struct {
	maxLines int
	maxBytes int
	timeout  time.Duration
}

// MultilineMaxLines sets the most lines one event may hold
// (--multiline-max-lines). A longer run of continuation lines is cut into
// several events, each marked Split.
func MultilineMaxLines(n int) MultilineOpt { return func(c *multilineCfg) { c.maxLines = n } }

// MultilineMaxBytes sets the most bytes one event may hold
// (--multiline-max-bytes), counting the '\n' joins. A continuation line that
// would pass it starts a new event instead. A single line longer than the cap
// is passed on whole as its own event: it is already in memory, and cutting
// it would garble the one record it is.
func MultilineMaxBytes(n int) MultilineOpt { return func(c *multilineCfg) { c.maxBytes = n } }

// MultilineTimeout sets how long a pending event waits after its last line
// before Expire hands it out (--multiline-timeout).
func MultilineTimeout(d time.Duration) MultilineOpt { return func(c *multilineCfg) { c.timeout = d } }

// validate checks every limit, naming the setting and both numbers.
func (c *multilineCfg) validate() error {
	for _, lim := range []struct {
		name     string
		v, least int64
	}{
		{"max-lines", int64(c.maxLines), 1},
		{"max-bytes", int64(c.maxBytes), 1},
		{"timeout", int64(c.timeout), int64(time.Millisecond)},
	} {
		if lim.v < lim.least {
			if lim.name == "timeout" {
				return fmt.Errorf("multiline timeout %v is smaller than allowed %v", time.Duration(lim.v), time.Duration(lim.least))
			}
			return fmt.Errorf("multiline %s %d is smaller than allowed %d", lim.name, lim.v, lim.least)
		}
	}
	return nil
}

// Multiline groups the lines of a stream into events before parsing, the
// way Logstash's multiline codec does with negate => true, what =>
// previous: a line that does not match the start pattern belongs to the
// event before it. A Java stack trace ("\tat ...", "Caused by: ...") or a
// DB2 diagnostic record thus becomes one event, its lines joined with '\n'.
//
// The shipper feeds lines with Add and sends what comes out; it calls Expire
// when the Deadline passes, so the last event of a quiet stream is not held
// back, and Flush at the end of input. Time is passed in by the caller
// (never read from the clock), so the grouping is deterministic and tests
// need no sleeping.
//
// Memory is bounded: the pending event holds at most MaxBytes (or one line,
// if a single line is longer) and MaxLines lines. An event cut by a cap is
// marked Split and its remaining lines form the next event; no line is
// dropped.
//
// A Multiline is for one stream and one goroutine.
type Multiline struct {
	start *regexp.Regexp
	cfg   multilineCfg

	buf   []byte    // the pending event's lines joined with '\n'
	lines int       // lines in buf; 0 means nothing pending
	last  time.Time // when the last line of buf was added
}

// MultilineGroup is one event made of one or more lines.
type MultilineGroup struct {
	// Text is the lines joined with '\n'. It belongs to the caller.
	Text []byte
	// Lines is the number of lines in Text.
	Lines int
	// Split is set when a cap (MaxLines or MaxBytes) ended the event rather
	// than the next start line, so the shipper can count such cuts: the
	// next event carries on with the continuation lines.
	Split bool
}

// NewMultiline returns a grouper whose events begin at lines matching start
// (a Go regexp, --multiline-start), e.g. `^\d{4}-\d{2}-\d{2}` for logs whose
// records begin with a date.
func NewMultiline(start string, opts ...MultilineOpt) (*Multiline, error) {
	if start == "" {
		return nil, errors.New("multiline start pattern is empty")
	}
	re, err := regexp.Compile(start)
	if err != nil {
		return nil, fmt.Errorf("multiline start pattern %q: %w", start, err)
	}
	cfg := multilineCfg{
		maxLines: DefaultMultilineMaxLines,
		maxBytes: DefaultMultilineMaxBytes,
		timeout:  DefaultMultilineTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Multiline{start: re, cfg: cfg}, nil
}

// Add takes the next line of the stream, received at now; the line is
// copied, so the caller may reuse its buffer. When the line ends the
// pending event (it is a start line, or a cap is reached) that event is
// returned with ok set, and the line begins the next one. At most one event
// comes out per line.
func (m *Multiline) Add(line []byte, now time.Time) (g MultilineGroup, ok bool) {
	switch {
	case m.lines == 0:
	case m.start.Match(line):
		g, ok = m.take(false), true
	case m.lines >= m.cfg.maxLines || len(m.buf)+1+len(line) > m.cfg.maxBytes:
		g, ok = m.take(true), true
	default:
		m.buf = append(m.buf, '\n')
		m.buf = append(m.buf, line...)
		m.lines++
		m.last = now
		return MultilineGroup{}, false
	}
	m.buf = append(make([]byte, 0, max(len(line), 256)), line...)
	m.lines = 1
	m.last = now
	return g, ok
}

// Deadline returns when the pending event times out, and false when there is
// none: the shipper sets its timer to it and calls Expire then.
func (m *Multiline) Deadline() (time.Time, bool) {
	if m.lines == 0 {
		return time.Time{}, false
	}
	return m.last.Add(m.cfg.timeout), true
}

// Expire returns the pending event if it has waited the timeout or longer
// since its last line (now is at or past the Deadline).
func (m *Multiline) Expire(now time.Time) (MultilineGroup, bool) {
	if d, ok := m.Deadline(); !ok || now.Before(d) {
		return MultilineGroup{}, false
	}
	return m.take(false), true
}

// Flush returns the pending event, if any, whatever its age: at the end of
// the input, or before the shipper stops.
func (m *Multiline) Flush() (MultilineGroup, bool) {
	if m.lines == 0 {
		return MultilineGroup{}, false
	}
	return m.take(false), true
}

// take hands out the pending event and leaves nothing pending.
func (m *Multiline) take(split bool) MultilineGroup {
	g := MultilineGroup{Text: m.buf, Lines: m.lines, Split: split}
	m.buf, m.lines, m.last = nil, 0, time.Time{}
	return g
}
