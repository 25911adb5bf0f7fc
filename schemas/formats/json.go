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
// rest of a longer key as a string. The table's multiplier is chosen so
// that no two keys share a first slot (tried in turn, the table doubled
// when none fits), so a key is found or not at its first probe, which
// find makes inline on the parser's straight path; probing stays for a
// table where no multiplier was found.
type keyTable struct {
	slots []keySlot // a power of two, at least four times the keys
	mul   uint64    // the hash multiplier (see slot0)
	shift uint      // 64 - log2(len(slots))
}

type keySlot struct {
	word uint64 // keyWord(kf.key)
	n    int    // len(kf.key), -1 for an empty slot
	kf   keyField
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

// lowBytes[n] keeps the low n bytes of a word.
var lowBytes = [8]uint64{0, 1<<8 - 1, 1<<16 - 1, 1<<24 - 1, 1<<32 - 1, 1<<40 - 1, 1<<48 - 1, 1<<56 - 1}

// le64 is the little-endian word of s[i:i+8] (the compiler makes the
// byte loads one load).
func le64(s string, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// slot0 is the first slot probed for a key of word w and length n.
func (t *keyTable) slot0(w uint64, n int) int {
	return int(((w ^ uint64(n)<<56) * t.mul) >> t.shift)
}

// keyTableTries is how many multipliers newKeyTable tries per table size.
const keyTableTries = 64

func newKeyTable(m map[string]string) keyTable {
	size, shift := 16, uint(64-4)
	for size < 4*len(m) {
		size, shift = 2*size, shift-1
	}
	for {
		for try := range keyTableTries {
			// Odd multipliers spread from the golden ratio's.
			t := keyTable{slots: make([]keySlot, size), mul: 0x9e3779b97f4a7c15 + uint64(try)*0x6a09e667f3bcc90a, shift: shift}
			if t.fill(m, size >= 1<<12 && try == keyTableTries-1) {
				return t
			}
		}
		size, shift = 2*size, shift-1
	}
}

// fill puts m's keys in the empty table t, false if two share a first
// slot, unless probe allows them to (the next free slot then).
func (t *keyTable) fill(m map[string]string, probe bool) bool {
	for i := range t.slots {
		t.slots[i].n = -1
	}
	for k, f := range m {
		w := keyWord(k)
		s := t.slot0(w, len(k))
		for t.slots[s].n >= 0 {
			if !probe {
				return false
			}
			s = (s + 1) & (len(t.slots) - 1)
		}
		t.slots[s] = keySlot{word: w, n: len(k), kf: keyField{k, f, fieldIDOf(f)}}
	}
	return true
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

// first is the slot a key of word w and length n is found in, if it is
// a key and the table did not need probing (see lookupShort): inline on
// the parser's straight path.
func (t *keyTable) first(w uint64, n int) *keySlot {
	return &t.slots[t.slot0(w, n)]
}

// lookupShort is lookup of a key of fewer than eight bytes whose
// keyWord is w: the slots after the first, when the table probes.
func (t *keyTable) lookupShort(w uint64, n int) *keyField {
	var k [8]byte
	for i := range n {
		k[i] = byte(w >> (8 * i))
	}
	kf, _ := t.lookupWord(string(k[:n]), w)
	return kf
}

// lookupWord is lookup with k's keyWord w.
func (t *keyTable) lookupWord(k string, w uint64) (*keyField, bool) {
	for s := t.slot0(w, len(k)); ; s = (s + 1) & (len(t.slots) - 1) {
		e := &t.slots[s]
		if e.n < 0 {
			return nil, false
		}
		if e.word == w && e.n == len(k) && (len(k) <= 8 || e.kf.key[8:] == k[8:]) {
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

// parseText parses the line's text s (see textParser). The common
// spelling of a log line (no white space, keys of a few plain bytes,
// plain string values) is read on the straight path: a key's closing
// quote is found in the word after its opening one and that word, masked,
// is its key-table word; the value's string is sliced out where its word
// scan stops on the closing quote. Anything else (white space, escapes,
// a long key, the end of the line) takes the general readers, which give
// the errors; the frozen parser of json_ref_test.go checks that both give
// the same event and error for every line.
func (j *JSON) parseText(s string, ev *event.Event) error {
	i := 0
	if len(s) == 0 || s[0] != '{' {
		i = skipJSONSpace(s, 0)
		if i >= len(s) {
			return errors.New("json: empty line")
		}
		if s[i] != '{' {
			return errNotObject
		}
	}
	i = skipJSONSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		for {
			if i >= len(s) || s[i] != '"' {
				return jsonSyntax(s, i, "a key")
			}
			var key string
			var kf *keyField
			next := -1
			if i+9 <= len(s) {
				w := le64(s, i+1)
				if m := stringStops(w); m != 0 {
					if n := bits.TrailingZeros64(m) >> 3; s[i+1+n] == '"' {
						key, next = s[i+1:i+1+n], i+2+n
						w &= lowBytes[n]
						if e := j.keys.first(w, n); e.word == w && e.n == n {
							kf = &e.kf
						} else if e.n >= 0 {
							kf = j.keys.lookupShort(w, n)
						}
					}
				}
			}
			if next < 0 {
				var err error
				if key, next, err = readJSONString(s, i); err != nil {
					return err
				}
				kf, _ = j.keys.lookupIn(s, i+1, next-1, key)
			}
			i = next
			if i < len(s) && s[i] == ':' {
				i++
			} else {
				if i = skipJSONSpace(s, i); i >= len(s) || s[i] != ':' {
					return jsonSyntax(s, i, "':' after key")
				}
				i++
			}
			if i < len(s) && s[i] <= ' ' {
				i = skipJSONSpace(s, i)
			}
			if i >= len(s) {
				return jsonSyntax(s, i, "a value")
			}
			var text string
			var err error
			if c := s[i]; c == '"' {
				// plainStringEnd inline, the tail of the line left to
				// readJSONString.
				k, stop := i+1, false
				for k+8 <= len(s) {
					if m := stringStops(le64(s, k)); m != 0 {
						k, stop = k+bits.TrailingZeros64(m)>>3, true
						break
					}
					k += 8
				}
				if stop && s[k] == '"' {
					text, next = s[i+1:k], k+1
				} else {
					text, next, err = readJSONString(s, i)
				}
			} else if c-'0' <= 9 || c == '-' {
				if next, err = skipJSONNumber(s, i); err == nil {
					text = s[i:next]
				}
			} else if next, err = skipJSONValue(s, i, 0); err == nil {
				if text = s[i:next]; text == "null" {
					text = ""
				}
			}
			if err != nil {
				return err
			}
			if kf != nil {
				if err := setFieldID(ev, j.tp, kf.id, kf.field, key, text); err != nil {
					return fmt.Errorf("json: %w", err)
				}
			} else {
				putField(ev, key, text)
			}
			i = next
			if i < len(s) && s[i] <= ' ' {
				i = skipJSONSpace(s, i)
			}
			if i < len(s) && s[i] == ',' {
				if i++; i < len(s) && s[i] <= ' ' {
					i = skipJSONSpace(s, i)
				}
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
	k := plainStringEnd(s, start)
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

// plainStringEnd is the index of the first byte at or after k that
// jsonStringStop marks, len(s) if none: eight bytes a step while the
// line has them.
func plainStringEnd(s string, k int) int {
	for k+8 <= len(s) {
		if m := stringStops(le64(s, k)); m != 0 {
			return k + bits.TrailingZeros64(m)>>3
		}
		k += 8
	}
	for k < len(s) && !jsonStringStop[s[k]] {
		k++
	}
	return k
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
// (a borrow), never at or below it: only the lowest is used. The quote
// and the control bytes are one test: with bit 1 flipped, '"' (0x22)
// becomes 0x20 and exactly they are below 0x21 (a byte with the high bit
// set is never below it).
func stringStops(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	low, backslash := w^(ones*0x02), w^(ones*'\\')
	return ((low-ones*0x21)&^low | (backslash-ones)&^backslash) & highs
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
	if i < len(s) && s[i] == '0' {
		i++
	} else if d := skipDigits(s, i); d > i {
		i = d
	} else {
		return 0, jsonSyntax(s, start, "a number")
	}
	if i < len(s) && s[i] == '.' {
		if d := skipDigits(s, i+1); d > i+1 {
			i = d
		} else {
			return 0, jsonSyntax(s, start, "a number")
		}
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if d := skipDigits(s, i); d > i {
			i = d
		} else {
			return 0, jsonSyntax(s, start, "a number")
		}
	}
	return i, nil
}

// skipDigits is the index of the first byte at or after i that is not
// a decimal digit.
func skipDigits(s string, i int) int {
	for i < len(s) && s[i]-'0' <= 9 {
		i++
	}
	return i
}
