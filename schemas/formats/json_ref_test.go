package formats

// The JSON parser as it was before the specialized scanner (commit
// e817119), frozen as the oracle of the differential tests: every line
// must give the new parser the same event and the same error as this.
// Keys are looked up in the plain map the key table is built from.

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/loglambda/loglambda/schemas/event"
)

// refParseText parses the line's text s (see textParser).
func refParseText(j *JSON, s string, ev *event.Event) error {
	i := refSkipJSONSpace(s, 0)
	if i >= len(s) {
		return errors.New("json: empty line")
	}
	if s[i] != '{' {
		return errNotObject
	}
	i = refSkipJSONSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		for {
			if i >= len(s) || s[i] != '"' {
				return refJsonSyntax(s, i, "a key")
			}
			key, next, err := refReadJSONString(s, i)
			if err != nil {
				return err
			}
			i = refSkipJSONSpace(s, next)
			if i >= len(s) || s[i] != ':' {
				return refJsonSyntax(s, i, "':' after key")
			}
			i = refSkipJSONSpace(s, i+1)
			if i >= len(s) {
				return refJsonSyntax(s, i, "a value")
			}
			var text string
			if s[i] == '"' {
				text, next, err = refReadJSONString(s, i)
			} else if next, err = refSkipJSONValue(s, i, 0); err == nil {
				if text = s[i:next]; text == "null" {
					text = ""
				}
			}
			if err != nil {
				return err
			}
			if field, ok := j.key[key]; ok {
				if err := refSetEventField(ev, j.tp, field, key, text); err != nil {
					return fmt.Errorf("json: %w", err)
				}
			} else {
				putField(ev, key, text)
			}
			i = refSkipJSONSpace(s, next)
			if i < len(s) && s[i] == ',' {
				i = refSkipJSONSpace(s, i+1)
				continue
			}
			if i < len(s) && s[i] == '}' {
				i++
				break
			}
			return refJsonSyntax(s, i, "',' or '}'")
		}
	}
	if i = refSkipJSONSpace(s, i); i < len(s) {
		return refJsonSyntax(s, i, "end of line after the object")
	}
	return nil
}

// refJsonSyntax describes a syntax error at byte i.
func refJsonSyntax(s string, i int, want string) error {
	if i >= len(s) {
		return fmt.Errorf("json: line ends where %s was expected (truncated?)", want)
	}
	return fmt.Errorf("json: want %s at byte %d, found %q", want, i, clip(s[i:]))
}

// refSkipJSONSpace returns the index of the first byte at or after i that
// is not JSON white space. Most calls find none (a log line is written
// without spaces): one compare tells every byte above ' ' apart.
func refSkipJSONSpace(s string, i int) int {
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// refReadJSONString reads the string starting at s[i] == '"' and returns its
// value and the index after the closing quote. Without escapes the value is
// a substring of s; with them it is decoded as encoding/json does (a lone
// surrogate becomes U+FFFD).
func refReadJSONString(s string, i int) (string, int, error) {
	start := i + 1
	k := start
	for k+8 <= len(s) {
		if m := refStringStops(le64(s, k)); m != 0 {
			k += bits.TrailingZeros64(m) / 8
			break
		}
		k += 8
	}
	for k < len(s) && !refJsonStringStop[s[k]] {
		k++
	}
	if k < len(s) {
		switch c := s[k]; {
		case c == '"':
			return s[start:k], k + 1, nil
		case c == '\\':
			return refUnescapeJSONString(s, start)
		default:
			return "", 0, fmt.Errorf("json: control character %#x in string at byte %d", c, k)
		}
	}
	return "", 0, refJsonSyntax(s, len(s), "closing '\"' of a string")
}

// refJsonStringStop marks the bytes that end a run of plain string bytes
// (the closing quote, a backslash, a control character): one table load
// per byte instead of three compares, on the loop that reads every key
// and string value of every line. Read-only after init.
var refJsonStringStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// refStringStops marks, in the high bit of each byte, the bytes of the
// little-endian word w that refJsonStringStop marks: '"', '\\' and those
// below 0x20, eight bytes per step instead of one (strings are most of a
// line's bytes). A marked bit may be wrong above the lowest marked byte
// (a borrow), never at or below it: only the lowest is used.
func refStringStops(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote, backslash := w^(ones*'"'), w^(ones*'\\')
	return ((quote-ones)&^quote | (backslash-ones)&^backslash | (w-ones*0x20)&^w) & highs
}

// refUnescapeJSONString decodes the string whose text starts at s[start].
func refUnescapeJSONString(s string, start int) (string, int, error) {
	var b strings.Builder
	b.Grow(32)
	for k := start; k < len(s); {
		c := s[k]
		switch {
		case c == '"':
			return b.String(), k + 1, nil
		case c < 0x20:
			return "", 0, fmt.Errorf("json: control character %#x in string at byte %d", c, k)
		case c != '\\':
			b.WriteByte(c)
			k++
			continue
		}
		if k+1 >= len(s) {
			break
		}
		switch e := s[k+1]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := refHex4(s, k+2)
			if !ok {
				return "", 0, fmt.Errorf("json: bad \\u escape at byte %d", k)
			}
			k += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := refHex4(s, k+2); ok && k+1 < len(s) && s[k] == '\\' && s[k+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b.WriteRune(dec)
						k += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
			continue
		default:
			return "", 0, fmt.Errorf("json: bad escape \\%c at byte %d", e, k)
		}
		k += 2
	}
	return "", 0, refJsonSyntax(s, len(s), "closing '\"' of a string")
}

// refHex4 reads four hex digits at s[i:].
func refHex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// refSkipJSONValue checks the non-string value at s[i] and returns the index
// after it. Nested objects and arrays are checked but not decoded: their
// text is kept as written.
func refSkipJSONValue(s string, i, depth int) (int, error) {
	switch c := s[i]; {
	case c == '"':
		_, next, err := refReadJSONString(s, i)
		return next, err
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return 0, fmt.Errorf("json: nesting deeper than %d at byte %d", maxJSONDepth, i)
		}
		return refSkipJSONContainer(s, i, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		return refSkipJSONNumber(s, i)
	case strings.HasPrefix(s[i:], "true"):
		return i + 4, nil
	case strings.HasPrefix(s[i:], "false"):
		return i + 5, nil
	case strings.HasPrefix(s[i:], "null"):
		return i + 4, nil
	}
	return 0, refJsonSyntax(s, i, "a value")
}

// refSkipJSONContainer checks the object or array at s[i].
func refSkipJSONContainer(s string, i, depth int) (int, error) {
	obj := s[i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	i = refSkipJSONSpace(s, i+1)
	if i < len(s) && s[i] == closer {
		return i + 1, nil
	}
	for {
		if obj {
			if i >= len(s) || s[i] != '"' {
				return 0, refJsonSyntax(s, i, "a key")
			}
			_, next, err := refReadJSONString(s, i)
			if err != nil {
				return 0, err
			}
			i = refSkipJSONSpace(s, next)
			if i >= len(s) || s[i] != ':' {
				return 0, refJsonSyntax(s, i, "':' after key")
			}
			i = refSkipJSONSpace(s, i+1)
		}
		if i >= len(s) {
			return 0, refJsonSyntax(s, i, "a value")
		}
		next, err := refSkipJSONValue(s, i, depth)
		if err != nil {
			return 0, err
		}
		i = refSkipJSONSpace(s, next)
		if i < len(s) && s[i] == ',' {
			i = refSkipJSONSpace(s, i+1)
			continue
		}
		if i < len(s) && s[i] == closer {
			return i + 1, nil
		}
		return 0, refJsonSyntax(s, i, fmt.Sprintf("',' or '%c'", closer))
	}
}

// refSkipJSONNumber checks the number at s[i] against the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func refSkipJSONNumber(s string, i int) (int, error) {
	start := i
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return 0, refJsonSyntax(s, start, "a number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return 0, refJsonSyntax(s, start, "a number")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, refJsonSyntax(s, start, "a number")
		}
	}
	return i, nil
}

// refSetEventField is setEventField as it was (see refParseText).
func refSetEventField(ev *event.Event, tp *TimeParser, name, key, text string) error {
	id := fieldIDOf(name)

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
		ev.Level = refNormalizeLevel(text)
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
		n, ok, err := refParseInt(name, key, text, 32)
		if ok {
			ev.Status = int32(n)
		}
		return err
	case fieldBytes:
		n, ok, err := refParseInt(name, key, text, 64)
		if ok {
			ev.Bytes = n
		}
		return err
	case fieldLatencyMS:
		f, err := refParseFloat(text)
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

func refNormalizeLevel(s string) string {
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

func refParseInt(field, key, text string, bits int) (n int64, ok bool, err error) {
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

func refParseFloat(text string) (float64, error) {
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
