package patterns

import (
	"slices"
	"strings"
)

// This file recognises the few words classify treats specially (time
// words, units, literals) with one probe of a small read-only table keyed
// by the word's bytes in lower case, instead of comparing the token with
// each of them.

// Word kinds, bits of wordEntry.kind.
const (
	wTime    uint8 = 1 << iota // month or weekday name (see timeWord)
	wUnit                      // unit of size, time or rate (see unitWord)
	wLiteral                   // true, false, null... in some case (see literalValue)
	wUser                      // root, admin in some case (see userName)
)

// maxWord is the longest special word ("September", "Wednesday").
const maxWord = 9

// Words in lower case, by kind.
var (
	timeWords = []string{
		"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
		"january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december",
		"mon", "tue", "wed", "thu", "fri", "sat", "sun",
		"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
	}
	unitWords    = append(append(append([]string{"%"}, sizeUnits...), timeUnits...), rateUnits...)
	literalWords = []string{"true", "false", "null", "nil", "none"}
	// The units of unitWords by dimension, for unitDimension.
	sizeUnits = []string{"b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "byte", "bytes"}
	timeUnits = []string{"ns", "us", "ms", "s", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes",
		"h", "hr", "hrs", "hour", "hours", "day", "days"}
	rateUnits = []string{"kbps", "mbps", "gbps"}
	userWords = []string{"root", "admin"}
)

// wordEntry is one slot of the word table: the word packed as wordKey
// does (n == 0 is an empty slot) and its kinds.
type wordEntry struct {
	lo   uint64
	hi   uint8
	n    uint8
	kind uint8
}

const wordBits = 8 // 256 slots for ~80 words: most probes end at the first slot

// wordTable is the read-only open-addressing table of the special words.
var wordTable = func() (t [1 << wordBits]wordEntry) {
	add := func(ws []string, kind uint8) {
		for _, w := range ws {
			lo, hi, _ := wordKey([]byte(w))
			s := wordSlot(lo, hi, len(w))
			for t[s].n != 0 && (t[s].lo != lo || t[s].hi != hi || int(t[s].n) != len(w)) {
				s = (s + 1) & (1<<wordBits - 1)
			}
			t[s] = wordEntry{lo: lo, hi: hi, n: uint8(len(w)), kind: t[s].kind | kind}
		}
	}
	add(timeWords, wTime)
	add(unitWords, wUnit)
	add(literalWords, wLiteral)
	add(userWords, wUser)
	return t
}()

// wordSeconds has, per word length and first letter (startIndex), a bit
// for each second byte (see startBit) a special word of that length and
// first letter has (0: no word of that length starts with the letter;
// all ones for words of one letter): it rejects almost every word of a
// message ("wrote", "the", "complete") before its key is computed.
var wordSeconds = func() (t [maxWord + 1][27]uint32) {
	for _, ws := range [][]string{timeWords, unitWords, literalWords, userWords} {
		for _, w := range ws {
			if len(w) > 1 {
				t[len(w)][startIndex(w[0])] |= startBit(w[1])
			} else {
				t[1][startIndex(w[0])] = ^uint32(0)
			}
		}
	}
	return t
}()

// startIndex is the index of startBit's bit.
func startIndex(c byte) int {
	c |= 0x20
	if c >= 'a' && c <= 'z' {
		return int(c - 'a')
	}
	return 26
}

// startBit is the wordSeconds bit of a byte: one per letter in
// either case, one for all other bytes.
func startBit(c byte) uint32 {
	c |= 0x20
	if c >= 'a' && c <= 'z' {
		return 1 << (c - 'a')
	}
	return 1 << 26
}

// wordKey packs b (at most maxWord bytes) in lower case: its first eight
// bytes little endian in lo, the ninth in hi.
func wordKey(b []byte) (lo uint64, hi uint8, ok bool) {
	if len(b) > maxWord || len(b) == 0 {
		return 0, 0, false
	}
	if len(b) == maxWord {
		hi = uint8(toLower8(uint64(b[8])))
	}
	return toLower8(load8(b)), hi, true
}

// toLower8 turns the ASCII upper-case letters among the eight bytes of w
// to lower case, all at once: a byte's high bit marks it when its low
// seven bits are in 'A'..'Z' and the byte is ASCII.
func toLower8(w uint64) uint64 {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	low7 := w &^ high
	atLeastA := low7 + (0x80-'A')*ones // no carry out of a byte: low7 <= 0x7f
	pastZ := low7 + (0x80-'Z'-1)*ones
	upper := atLeastA &^ pastZ &^ w & high
	return w | upper>>2 // 0x80>>2 is 'a'-'A'
}

func wordSlot(lo uint64, hi uint8, n int) uint {
	h := (lo ^ uint64(hi)<<58 ^ uint64(n)<<61) * 0x9E3779B97F4A7C15
	return uint(h >> (64 - wordBits))
}

// specialCandidate reports whether b may be a special word: its length,
// first and second letters are those of one. It rejects almost every
// word at the cost of two table loads, inlined in its callers.
func specialCandidate(b []byte) bool {
	n := len(b)
	if n == 0 || n > maxWord {
		return false
	}
	// wordSeconds is 0 for a first letter no word of the length has,
	// and all ones for a word of one letter.
	return wordSeconds[n][startIndex(b[0])]&startBit(b[min(n-1, 1)]) != 0
}

// wordKind returns the kinds of b in lower case (0 for most words); the
// caller checks the case rules of each kind.
func wordKind(b []byte) uint8 {
	if !specialCandidate(b) {
		return 0
	}
	lo, hi, _ := wordKey(b)
	n := uint8(len(b))
	for s := wordSlot(lo, hi, len(b)); ; s = (s + 1) & (1<<wordBits - 1) {
		e := &wordTable[s]
		if e.n == 0 {
			return 0
		}
		if e.lo == lo && e.hi == hi && e.n == n {
			return e.kind
		}
	}
}

// timeWord reports an English month or weekday name, as in dates written
// by C's ctime, syslog and Java, that starts with a capital letter (dates
// are written capitalised; "may" in a sentence is a word).
func timeWord(b []byte) bool {
	return len(b) > 0 && b[0] >= 'A' && b[0] <= 'Z' && wordKind(b)&wTime != 0
}

// unitWord reports a unit of size, time or rate that follows a number.
func unitWord(b []byte) bool { return wordKind(b)&wUnit != 0 }

// Dimensions of units, bits of unitDimension's answer.
const (
	dSize uint8 = 1 << iota
	dTime
	dRate
)

// unitDimension returns the dimension of the unit a template's quantity
// shows ("<*> KB)," is a size), or 0.
func unitDimension(lit string) uint8 {
	i := strings.Index(lit, Wildcard)
	if i < 0 {
		return 0
	}
	w := strings.TrimLeft(lit[i+len(Wildcard):], " ")
	j := 0
	for j < len(w) && isLetter(w[j]) {
		j++
	}
	w = strings.ToLower(w[:j])
	switch {
	case slices.Contains(sizeUnits, w):
		return dSize
	case slices.Contains(timeUnits, w):
		return dTime
	case slices.Contains(rateUnits, w):
		return dRate
	}
	return 0
}
