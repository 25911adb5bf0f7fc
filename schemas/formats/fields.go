package formats

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/loglambda/loglambda/schemas/event"
)

// eventFields are the names by which the json, regex and grok formats fill
// Event fields. "url" is split into path and query; every other name is kept
// in Event.Fields.
var eventFields = []string{"ts", "host", "instance", "level", "component", "user", "ip", "method", "url", "path", "query", "status", "bytes", "latency_ms", "msg"}

// isEventField reports whether name is one of eventFields.
func isEventField(name string) bool {
	for _, f := range eventFields {
		if f == name {
			return true
		}
	}
	return false
}

// fieldID names one of eventFields (the JSON parser's key table holds
// them), so that setting a field is a jump on a small integer rather than
// a switch over its name: a dozen string compares per key, a dozen keys a
// line.
type fieldID uint8

const (
	fieldNone fieldID = iota
	fieldTS
	fieldHost
	fieldInstance
	fieldLevel
	fieldComponent
	fieldUser
	fieldIP
	fieldMethod
	fieldURL
	fieldPath
	fieldQuery
	fieldStatus
	fieldBytes
	fieldLatencyMS
	fieldMsg
)

// fieldIDOf returns the fieldID of one of eventFields, fieldNone for any
// other name.
func fieldIDOf(name string) fieldID {
	for i, f := range eventFields {
		if f == name {
			return fieldID(i + 1)
		}
	}
	return fieldNone
}

// setEventField sets the Event field named field from text read under key.
// Empty text means absent. A time that cannot be read is not an error: the
// event keeps a zero Time (ParseLine then stamps the ingest time and sets
// TimeMissing) and the text is kept in Fields[key], so nothing is lost and
// the operator can see what the time looked like. A number that cannot be
// read is an error: it means the format does not fit the line.
func setEventField(ev *event.Event, tp *TimeParser, field, key, text string) error {
	return setFieldID(ev, tp, fieldIDOf(field), field, key, text)
}

// setFieldID is setEventField of the field id names (name is its name, for
// errors; fieldNone keeps text in Fields[key]).
func setFieldID(ev *event.Event, tp *TimeParser, id fieldID, name, key, text string) error {
	if text == "" {
		return nil
	}
	switch id {
	case fieldTS:
		t, err := tp.Parse(text, ev.IngestTime)
		if err != nil {
			putField(ev, key, text)
			return nil
		}
		ev.Time = t
	case fieldHost:
		ev.Host = text
	case fieldInstance:
		ev.Instance = text
	case fieldLevel:
		ev.Level = NormalizeLevel(text)
	case fieldComponent:
		ev.Component = text
	case fieldUser:
		ev.User = text
	case fieldIP:
		ev.IP = text
	case fieldMethod:
		ev.Method = text
	case fieldURL, fieldPath:
		ev.Path, ev.Query, _ = strings.Cut(text, "?")
	case fieldQuery:
		ev.Query = strings.TrimPrefix(text, "?")
	case fieldStatus:
		n, ok, err := parseInt(name, key, text, 32)
		if ok {
			ev.Status = int32(n)
		}
		return err
	case fieldBytes:
		n, ok, err := parseInt(name, key, text, 64)
		if ok {
			ev.Bytes = n
		}
		return err
	case fieldLatencyMS:
		f, err := parseFloat(text)
		if err != nil {
			return fmt.Errorf("field %q: latency_ms %q is not a number", key, clip(text))
		}
		ev.LatencyMS = f
	case fieldMsg:
		ev.Msg = text
	default:
		putField(ev, key, text)
	}
	return nil
}

// parseInt reads the integer of field (bits wide) from text read under
// key. "-", how access logs write "none", is absent: ok is false and
// there is no error. Up to 18 plain digits (every status and byte count
// seen) are read here, which cannot overflow an int64; anything else goes
// to strconv.ParseInt, whose result and range check these give too.
func parseInt(field, key, text string, bits int) (n int64, ok bool, err error) {
	if text == "-" {
		return 0, false, nil
	}
	if len(text) <= 18 {
		i := 0
		for ; i < len(text) && text[i] >= '0' && text[i] <= '9'; i++ {
			n = n*10 + int64(text[i]-'0')
		}
		if i == len(text) && i > 0 && (bits == 64 || n <= 1<<(bits-1)-1) {
			return n, true, nil
		}
	}
	n, err = strconv.ParseInt(text, 10, bits)
	if err != nil {
		return 0, false, fmt.Errorf("field %q: %s %q is not an integer", key, field, clip(text))
	}
	return n, true, nil
}

// float10 are the powers of ten a float64 holds exactly.
var float10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat is strconv.ParseFloat(text, 64), read by hand for a plain
// decimal of at most 15 digits ("123.4", "-0.25"): its digits as an
// integer are exact in a float64, so are the powers of ten up to 1e22, and
// one IEEE division of two exact values is correctly rounded, the value
// strconv gives (its own exact fast path). Anything else (exponents,
// longer mantissas, "inf", errors) goes to strconv. Latencies are on
// most lines, and strconv cost a twentieth of parsing one.
func parseFloat(text string) (float64, error) {
	s, neg := text, false
	if len(s) > 0 && s[0] == '-' {
		s, neg = s[1:], true
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return strconv.ParseFloat(text, 64)
		}
	}
	if digits == 0 || digits > 15 || dot && frac == 0 || dot && len(s) == frac+1 {
		return strconv.ParseFloat(text, 64)
	}
	f := float64(mant) / float10[frac]
	if neg {
		f = -f
	}
	return f, nil
}

// putField keeps text in ev.Fields[key], making the map on first use so an
// event with no extra fields costs no map.
func putField(ev *event.Event, key, text string) {
	if ev.Fields == nil {
		ev.Fields = make(map[string]string, 4)
	}
	ev.Fields[key] = text
}

// statusLevel is the level of an HTTP status: server errors are ERROR,
// client errors WARN, the rest INFO, so access logs feed the levels view.
func statusLevel(status int32) string {
	switch {
	case status >= 500:
		return "ERROR"
	case status >= 400:
		return "WARN"
	}
	return "INFO"
}

// NormalizeLevel maps level spellings to one upper-case name, so that
// "warning", "WARN" and "W" count as the same level.
func NormalizeLevel(s string) string {
	switch s { // already the one name: most lines (a compare, not a trim, a scan and a switch)
	case "INFO", "WARN", "ERROR", "DEBUG", "FATAL", "TRACE":
		return s
	}
	u := strings.ToUpper(strings.TrimSpace(s))
	switch u {
	case "W", "WARNING":
		return "WARN"
	case "E", "ERR":
		return "ERROR"
	case "I", "INFORMATION":
		return "INFO"
	case "D":
		return "DEBUG"
	case "F", "CRITICAL", "CRIT", "SEVERE":
		return "FATAL"
	}
	return u
}

// lineText copies line into a string with trailing CR/LF removed. Parsers
// slice every field out of this one string, so a line costs one copy rather
// than one per field (the caller may reuse line's buffer, so it must be
// copied once). Bytes that are not UTF-8 become U+FFFD, one per byte as
// encoding/json does, because the lake stores text columns as UTF-8 and
// Arrow requires it; Event.Raw keeps the original bytes.
func lineText(line []byte) string {
	line = trimEOL(line)
	s := string(line)
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// trimEOL is line without its trailing CR/LF.
func trimEOL(line []byte) []byte {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line
}

// borrowedText is lineText without the copy: line's own bytes as a
// string, when they are UTF-8 (ok false otherwise: lineText then replaces
// the invalid bytes in a copy). The caller must not change line while the
// string or any substring of it is in use.
func borrowedText(line []byte) (s string, ok bool) {
	line = trimEOL(line)
	if len(line) == 0 || !utf8.Valid(line) {
		return "", false
	}
	return unsafe.String(&line[0], len(line)), true
}
