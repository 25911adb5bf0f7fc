package formats

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/loglambda/loglambda/schemas/event"
)

// JSON parses one JSON object per line. Keys named as the Event fields
// (ts, host, instance, level, component, user, ip, method, url or path,
// query, status, bytes, latency_ms, msg) fill them; every other key is kept
// in Event.Fields with its JSON text (strings unquoted, null empty, objects
// and arrays as written). A duplicated key counts once, the last one wins,
// as with encoding/json.
//
// The scanner is hand-written over the object's top-level keys, because
// decoding into a map with encoding/json costs several microseconds and a
// dozen allocations per line, which caps a core near 150k lines/s. It
// validates the whole line as JSON (nested values are walked, not
// decoded), and slices every unescaped string out of one copy of the line.
type JSON struct {
	spec string
	// key maps a JSON key to the Event field it fills; keys is the same
	// mapping bucketed by key length for lookup on the hot path.
	key  map[string]string
	keys keyTable
	tp   *TimeParser
}

// keyTable finds the Event field of a JSON key. Looking every key of every
// line up in a map cost a fifth of the parse (hashing each key), and a
// table bucketed by length still compared strings (a call per compare):
// here a key's first eight bytes, read as one word, pick a slot of an
// open-addressed table and are compared as one word with its key's, the
// rest of a longer key as a string. The dozen keys leave the table mostly
// empty, so a lookup is one probe.
type keyTable struct {
	slots []keySlot // a power of two, at least four times the keys
	shift uint      // 64 - log2(len(slots))
}

type keySlot struct {
	used bool
	kf   keyField
	word uint64 // keyWord(kf.key)
}

type keyField struct {
	key, field string
	id         fieldID
}

// keyWord is k's first eight bytes (fewer for a shorter key, the rest
// zero) as a little-endian word.
func keyWord(k string) uint64 {
	if len(k) >= 8 {
		return le64(k, 0)
	}
	var w uint64
	for i := len(k) - 1; i >= 0; i-- {
		w = w<<8 | uint64(k[i])
	}
	return w
}

// le64 is the little-endian word of s[i:i+8] (the compiler makes the
// byte loads one load).
func le64(s string, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// slot0 is the first slot probed for a key of word w and length n.
func (t *keyTable) slot0(w uint64, n int) int {
	return int(((w ^ uint64(n)<<56) * 0x9e3779b97f4a7c15) >> t.shift)
}

func newKeyTable(m map[string]string) keyTable {
	t := keyTable{slots: make([]keySlot, 16), shift: 64 - 4}
	for len(t.slots) < 4*len(m) {
		t.slots = make([]keySlot, 2*len(t.slots))
		t.shift--
	}
	for k, f := range m {
		w := keyWord(k)
		s := t.slot0(w, len(k))
		for t.slots[s].used {
			s = (s + 1) & (len(t.slots) - 1)
		}
		t.slots[s] = keySlot{used: true, kf: keyField{k, f, fieldIDOf(f)}, word: w}
	}
	return t
}

func (t *keyTable) lookup(k string) (*keyField, bool) {
	return t.lookupWord(k, keyWord(k))
}

// lookupIn is lookup of the key k read from the string of the line s
// that starts at s[at] and ends before s[end] (the closing quote): when
// it had no escapes (an escape always shrinks, so k is then as long as
// the span) and the line has eight bytes from at, its word is one load.
func (t *keyTable) lookupIn(s string, at, end int, k string) (*keyField, bool) {
	if end-at != len(k) || at+8 > len(s) {
		return t.lookup(k)
	}
	w := le64(s, at)
	if len(k) < 8 {
		w &= 1<<(8*len(k)) - 1
	}
	return t.lookupWord(k, w)
}

// lookupWord is lookup with k's keyWord w.
func (t *keyTable) lookupWord(k string, w uint64) (*keyField, bool) {
	for s := t.slot0(w, len(k)); ; s = (s + 1) & (len(t.slots) - 1) {
		e := &t.slots[s]
		if !e.used {
			return nil, false
		}
		if e.word == w && len(e.kf.key) == len(k) && (len(k) <= 8 || e.kf.key[8:] == k[8:]) {
			return &e.kf, true
		}
	}
}

// NewJSON returns the JSON parser. mapping renames source keys, as
// "ts=@timestamp,msg=message": the Event field ts is read from "@timestamp".
func NewJSON(mapping string) (*JSON, error) {
	j := &JSON{spec: "json", key: make(map[string]string, len(eventFields))}
	for _, f := range eventFields {
		j.key[f] = f
	}
	if mapping != "" {
		j.spec = "json:" + mapping
		for _, kv := range strings.Split(mapping, ",") {
			field, src, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || src == "" {
				return nil, fmt.Errorf("json mapping %q: want field=key", kv)
			}
			if !isEventField(field) {
				return nil, fmt.Errorf("json mapping %q: unknown field %q (known: %s)", kv, field, strings.Join(eventFields, ", "))
			}
			delete(j.key, field)
			j.key[src] = field
		}
	}
	j.keys = newKeyTable(j.key)
	return j, nil
}

// Spec implements Parser.
func (j *JSON) Spec() string { return j.spec }

// setTimeParser implements timeConfigurable.
func (j *JSON) setTimeParser(tp *TimeParser) { j.tp = tp }

// maxJSONDepth bounds nesting so a hostile line cannot recurse without end;
// encoding/json's limit is 10000, real logs need a handful.
const maxJSONDepth = 512

// errNotObject is returned for a line that is JSON-ish but not an object.
var errNotObject = errors.New("json: line is not a JSON object")

// Parse implements Parser.
func (j *JSON) Parse(line []byte, ev *event.Event) error {
	return j.parseText(lineText(line), ev)
}

// parseText parses the line's text s (see textParser).
func (j *JSON) parseText(s string, ev *event.Event) error {
	i := skipJSONSpace(s, 0)
	if i >= len(s) {
		return errors.New("json: empty line")
	}
	if s[i] != '{' {
		return errNotObject
	}
	i = skipJSONSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		for {
			if i >= len(s) || s[i] != '"' {
				return jsonSyntax(s, i, "a key")
			}
			key, next, err := readJSONString(s, i)
			if err != nil {
				return err
			}
			keyAt, keyEnd := i+1, next-1
			i = skipJSONSpace(s, next)
			if i >= len(s) || s[i] != ':' {
				return jsonSyntax(s, i, "':' after key")
			}
			i = skipJSONSpace(s, i+1)
			if i >= len(s) {
				return jsonSyntax(s, i, "a value")
			}
			var text string
			if s[i] == '"' {
				text, next, err = readJSONString(s, i)
			} else if next, err = skipJSONValue(s, i, 0); err == nil {
				if text = s[i:next]; text == "null" {
					text = ""
				}
			}
			if err != nil {
				return err
			}
			if kf, ok := j.keys.lookupIn(s, keyAt, keyEnd, key); ok {
				if err := setFieldID(ev, j.tp, kf.id, kf.field, key, text); err != nil {
					return fmt.Errorf("json: %w", err)
				}
			} else {
				putField(ev, key, text)
			}
			i = skipJSONSpace(s, next)
			if i < len(s) && s[i] == ',' {
				i = skipJSONSpace(s, i+1)
				continue
			}
			if i < len(s) && s[i] == '}' {
				i++
				break
			}
			return jsonSyntax(s, i, "',' or '}'")
		}
	}
	if i = skipJSONSpace(s, i); i < len(s) {
		return jsonSyntax(s, i, "end of line after the object")
	}
	return nil
}

// jsonSyntax describes a syntax error at byte i.
func jsonSyntax(s string, i int, want string) error {
	if i >= len(s) {
		return fmt.Errorf("json: line ends where %s was expected (truncated?)", want)
	}
	return fmt.Errorf("json: want %s at byte %d, found %q", want, i, clip(s[i:]))
}

// skipJSONSpace returns the index of the first byte at or after i that
// is not JSON white space. Most calls find none (a log line is written
// without spaces): one compare tells every byte above ' ' apart.
func skipJSONSpace(s string, i int) int {
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// readJSONString reads the string starting at s[i] == '"' and returns its
// value and the index after the closing quote. Without escapes the value is
// a substring of s; with them it is decoded as encoding/json does (a lone
// surrogate becomes U+FFFD).
func readJSONString(s string, i int) (string, int, error) {
	start := i + 1
	k := start
	for k+8 <= len(s) {
		if m := stringStops(le64(s, k)); m != 0 {
			k += bits.TrailingZeros64(m) / 8
			break
		}
		k += 8
	}
	for k < len(s) && !jsonStringStop[s[k]] {
		k++
	}
	if k < len(s) {
		switch c := s[k]; {
		case c == '"':
			return s[start:k], k + 1, nil
		case c == '\\':
			return unescapeJSONString(s, start)
		default:
			return "", 0, fmt.Errorf("json: control character %#x in string at byte %d", c, k)
		}
	}
	return "", 0, jsonSyntax(s, len(s), "closing '\"' of a string")
}

// jsonStringStop marks the bytes that end a run of plain string bytes
// (the closing quote, a backslash, a control character): one table load
// per byte instead of three compares, on the loop that reads every key
// and string value of every line. Read-only after init.
var jsonStringStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// stringStops marks, in the high bit of each byte, the bytes of the
// little-endian word w that jsonStringStop marks: '"', '\\' and those
// below 0x20, eight bytes per step instead of one (strings are most of a
// line's bytes). A marked bit may be wrong above the lowest marked byte
// (a borrow), never at or below it: only the lowest is used.
func stringStops(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote, backslash := w^(ones*'"'), w^(ones*'\\')
	return ((quote-ones)&^quote | (backslash-ones)&^backslash | (w-ones*0x20)&^w) & highs
}

// unescapeJSONString decodes the string whose text starts at s[start].
func unescapeJSONString(s string, start int) (string, int, error) {
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
			r, ok := hex4(s, k+2)
			if !ok {
				return "", 0, fmt.Errorf("json: bad \\u escape at byte %d", k)
			}
			k += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(s, k+2); ok && k+1 < len(s) && s[k] == '\\' && s[k+1] == 'u' {
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
	return "", 0, jsonSyntax(s, len(s), "closing '\"' of a string")
}

// hex4 reads four hex digits at s[i:].
func hex4(s string, i int) (rune, bool) {
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

// skipJSONValue checks the non-string value at s[i] and returns the index
// after it. Nested objects and arrays are checked but not decoded: their
// text is kept as written.
func skipJSONValue(s string, i, depth int) (int, error) {
	switch c := s[i]; {
	case c == '"':
		_, next, err := readJSONString(s, i)
		return next, err
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return 0, fmt.Errorf("json: nesting deeper than %d at byte %d", maxJSONDepth, i)
		}
		return skipJSONContainer(s, i, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		return skipJSONNumber(s, i)
	case strings.HasPrefix(s[i:], "true"):
		return i + 4, nil
	case strings.HasPrefix(s[i:], "false"):
		return i + 5, nil
	case strings.HasPrefix(s[i:], "null"):
		return i + 4, nil
	}
	return 0, jsonSyntax(s, i, "a value")
}

// skipJSONContainer checks the object or array at s[i].
func skipJSONContainer(s string, i, depth int) (int, error) {
	obj := s[i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	i = skipJSONSpace(s, i+1)
	if i < len(s) && s[i] == closer {
		return i + 1, nil
	}
	for {
		if obj {
			if i >= len(s) || s[i] != '"' {
				return 0, jsonSyntax(s, i, "a key")
			}
			_, next, err := readJSONString(s, i)
			if err != nil {
				return 0, err
			}
			i = skipJSONSpace(s, next)
			if i >= len(s) || s[i] != ':' {
				return 0, jsonSyntax(s, i, "':' after key")
			}
			i = skipJSONSpace(s, i+1)
		}
		if i >= len(s) {
			return 0, jsonSyntax(s, i, "a value")
		}
		next, err := skipJSONValue(s, i, depth)
		if err != nil {
			return 0, err
		}
		i = skipJSONSpace(s, next)
		if i < len(s) && s[i] == ',' {
			i = skipJSONSpace(s, i+1)
			continue
		}
		if i < len(s) && s[i] == closer {
			return i + 1, nil
		}
		return 0, jsonSyntax(s, i, fmt.Sprintf("',' or '%c'", closer))
	}
}

// skipJSONNumber checks the number at s[i] against the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipJSONNumber(s string, i int) (int, error) {
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
		return 0, jsonSyntax(s, start, "a number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return 0, jsonSyntax(s, start, "a number")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, jsonSyntax(s, start, "a number")
		}
	}
	return i, nil
}
