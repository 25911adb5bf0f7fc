package formats

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/loglambda/loglambda/schemas/event"
)

// AccessLog parses Apache and nginx access logs in the NCSA common layout
//
//	%h %l %u %t "%r" %>s %b
//	127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif?x=1 HTTP/1.0" 200 2326
//
// or the combined layout, which adds "%{Referer}i" "%{User-agent}i" (nginx's
// default log_format is the combined one).
//
// The client goes to Event.IP, the remote user to Event.User, the identd
// name to Fields["ident"], the request line to Method, Path, Query and
// Fields["protocol"], and the referrer and user agent to Fields["referrer"]
// and Fields["agent"]; "-" means absent. The level follows the status: 5xx
// is ERROR, 4xx WARN, else INFO. Anything after the last field (nginx
// formats often append "$http_x_forwarded_for" or a request time) is kept in
// Fields["extra"].
//
// A request line that cannot be split ("-" for a connection closed before
// the request, a TLS handshake sent to the plain-HTTP port, a scanner's junk)
// is still an access: the rest of the line is parsed and the request text is
// kept in Fields["request"]. A combined line cut off in or before its
// referrer or user agent is kept too, with what was cut named in
// Fields["truncated"] ("agent", "referrer,agent"): the request, status and
// bytes are whole. A line that does not have the layout (cut before the
// bytes, binary junk, another format) is an error naming what was expected
// where.
//
// The scanner is written by hand over one string copy of the line, so every
// field is a substring of it and a line costs two allocations plus the
// Fields map.
type AccessLog struct {
	combined bool
	tp       *TimeParser
}

// NewCombined returns the parser of the combined access log layout.
func NewCombined() *AccessLog { return &AccessLog{combined: true} }

// NewCommon returns the parser of the common access log layout.
func NewCommon() *AccessLog { return &AccessLog{} }

// Spec implements Parser.
func (a *AccessLog) Spec() string {
	if a.combined {
		return "combined"
	}
	return "common"
}

// setTimeParser lets --time-layout read a bracketed time that is not in the
// access-log layout (an nginx log_format with $time_iso8601, say).
func (a *AccessLog) setTimeParser(tp *TimeParser) { a.tp = tp }

// Parse implements Parser.
func (a *AccessLog) Parse(line []byte, ev *event.Event) error {
	return a.parseText(lineText(line), ev)
}

// parseText parses the line's text s (see textParser).
func (a *AccessLog) parseText(s string, ev *event.Event) error {
	s = strings.TrimRight(s, " \t")
	sc := accessScanner{s: s, format: a.Spec()}

	ev.IP = sc.token("client address")
	ident := sc.token("ident")
	user := sc.token("remote user")
	ts := sc.delimited('[', ']', "time")
	request := sc.quoted("request")
	status := sc.token("status")
	size := sc.tokenLast("bytes", true)
	var referrer, agent string
	var cut []string // trailing fields cut off: the access still counts
	if a.combined && sc.err == nil {
		referrer, agent, cut = sc.trailing()
	}
	if sc.err != nil {
		return sc.err
	}

	if ident != "-" {
		putField(ev, "ident", ident)
	}
	if user != "-" {
		ev.User = user
	}
	if t, ok := parseAccessTime(ts); ok {
		ev.Time = t
	} else if t, err := a.tp.Parse(ts, ev.IngestTime); err == nil {
		ev.Time = t
	} else {
		// Kept, not failed: the access is still worth counting; ParseLine
		// marks it TimeMissing.
		putField(ev, "time", ts)
	}
	if status != "-" {
		n, err := strconv.ParseUint(status, 10, 16)
		if err != nil || n > 999 {
			return fmt.Errorf("%s: status %q is not a 3-digit number", sc.format, clip(status))
		}
		ev.Status = int32(n)
	}
	ev.Level = statusLevel(ev.Status)
	if size != "-" {
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%s: bytes %q is not a number", sc.format, clip(size))
		}
		ev.Bytes = n
	}
	splitRequest(ev, request)
	if referrer != "-" && referrer != "" {
		putField(ev, "referrer", referrer)
	}
	if agent != "-" && agent != "" {
		putField(ev, "agent", agent)
	}
	if len(cut) > 0 {
		putField(ev, "truncated", strings.Join(cut, ","))
	}
	if rest := strings.TrimLeft(s[sc.i:], " "); rest != "" {
		putField(ev, "extra", rest)
	}
	return nil
}

// trailing reads the combined layout's referrer and user agent, leniently:
// a line cut short after the bytes (a full disk, a log shipper's line cap,
// a copy and paste) still proves the client, time, request, status and
// bytes, so the access counts. A field the line ends before, or inside
// (no closing quote: its text so far is kept), is named in cut, which
// Parse stores in Fields["truncated"]. Anything else that is not the
// layout is still an error.
func (sc *accessScanner) trailing() (referrer, agent string, cut []string) {
	for _, f := range []struct {
		name, what string
		v          *string
	}{{"referrer", "referrer", &referrer}, {"agent", "user agent", &agent}} {
		if sc.i >= len(sc.s) {
			cut = append(cut, f.name)
			continue
		}
		v, complete := sc.quotedTail(f.what)
		*f.v = v
		if !complete {
			cut = append(cut, f.name)
		}
	}
	return referrer, agent, cut
}

// splitRequest fills Method, Path, Query and Fields["protocol"] from a
// request line "GET /path?query HTTP/1.1", or keeps it in Fields["request"]
// when it is not one.
func splitRequest(ev *event.Event, r string) {
	method, rest, ok := strings.Cut(r, " ")
	if !ok || !isMethod(method) {
		if r != "" && r != "-" {
			putField(ev, "request", r)
		}
		return
	}
	target, proto, hasProto := strings.Cut(rest, " ")
	// HTTP/0.9 requests have no protocol; anything else after the target
	// must be one, or this is not a request line.
	if target == "" || hasProto && (!strings.HasPrefix(proto, "HTTP/") || strings.IndexByte(proto, ' ') >= 0) || !isTarget(target) {
		putField(ev, "request", r)
		return
	}
	ev.Method = method
	ev.Path, ev.Query, _ = strings.Cut(target, "?")
	if proto != "" {
		putField(ev, "protocol", proto)
	}
}

// isMethod reports whether m is an HTTP method token (RFC 9110 tchar),
// which rules out TLS handshakes and binary junk in the request line.
func isMethod(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// isTarget reports whether t can be a request target: printable, no spaces.
func isTarget(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] == 0x7f {
			return false
		}
	}
	return true
}

// accessScanner walks an access-log line field by field. The first failure
// is kept in err and later calls do nothing, so Parse reads as the layout.
type accessScanner struct {
	s      string
	i      int
	format string
	err    error
}

func (sc *accessScanner) fail(what, want string) {
	if sc.err != nil {
		return
	}
	if sc.i >= len(sc.s) {
		sc.err = fmt.Errorf("%s: line ends before the %s (truncated?)", sc.format, what)
		return
	}
	sc.err = fmt.Errorf("%s: %s: want %s at byte %d, found %q", sc.format, what, want, sc.i, clip(sc.s[sc.i:]))
}

// skipSpace steps over the spaces between fields. At least one is needed
// unless at the start of the line.
func (sc *accessScanner) skipSpace(what string) bool {
	if sc.i == 0 {
		return true
	}
	if sc.i >= len(sc.s) || sc.s[sc.i] != ' ' {
		sc.fail(what, "a space")
		return false
	}
	for sc.i < len(sc.s) && sc.s[sc.i] == ' ' {
		sc.i++
	}
	return true
}

// token returns the next space-delimited field.
func (sc *accessScanner) token(what string) string {
	return sc.tokenLast(what, false)
}

// tokenLast returns the next space-delimited field; last allows the line to
// end right after it.
func (sc *accessScanner) tokenLast(what string, last bool) string {
	if sc.err != nil || !sc.skipSpace(what) {
		return ""
	}
	start := sc.i
	for sc.i < len(sc.s) && sc.s[sc.i] != ' ' {
		sc.i++
	}
	if sc.i == start {
		sc.fail(what, "a field")
		return ""
	}
	if sc.i >= len(sc.s) && !last {
		sc.err = fmt.Errorf("%s: line ends after the %s (truncated?)", sc.format, what)
		return ""
	}
	return sc.s[start:sc.i]
}

// delimited returns the text between open and the first close.
func (sc *accessScanner) delimited(open, close byte, what string) string {
	if sc.err != nil || !sc.skipSpace(what) {
		return ""
	}
	if sc.i >= len(sc.s) || sc.s[sc.i] != open {
		sc.fail(what, fmt.Sprintf("%q", open))
		return ""
	}
	end := strings.IndexByte(sc.s[sc.i+1:], close)
	if end < 0 {
		sc.err = fmt.Errorf("%s: %s: no closing %q (truncated?)", sc.format, what, close)
		return ""
	}
	v := sc.s[sc.i+1 : sc.i+1+end]
	sc.i += end + 2
	return v
}

// quoted returns the text of a double-quoted field. Apache and nginx write
// a quote inside it as \" and a backslash as \\; those two are unescaped,
// other escapes (\x16 for a non-printable byte) are kept as written.
func (sc *accessScanner) quoted(what string) string {
	v, complete := sc.quotedTail(what)
	if !complete && sc.err == nil {
		sc.err = fmt.Errorf("%s: %s: no closing quote (truncated?)", sc.format, what)
		return ""
	}
	return v
}

// quotedTail is quoted for a field that may be the last of a cut line: it
// returns the text up to the end of the line and complete false when the
// closing quote is missing, leaving the scanner at the end of the line.
func (sc *accessScanner) quotedTail(what string) (v string, complete bool) {
	if sc.err != nil || !sc.skipSpace(what) {
		return "", true
	}
	if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
		sc.fail(what, "'\"'")
		return "", true
	}
	start := sc.i + 1
	escaped := false
	for j := start; j < len(sc.s); j++ {
		switch sc.s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			sc.i = j + 1
			if escaped {
				return unescapeAccess(sc.s[start:j]), true
			}
			return sc.s[start:j], true
		}
	}
	sc.i = len(sc.s)
	if escaped {
		return unescapeAccess(sc.s[start:]), false
	}
	return sc.s[start:], false
}

// unescapeAccess turns \" into " and \\ into \, leaving other escapes.
func unescapeAccess(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
