package patterns

import "encoding/binary"

// This file caches classify's answer for the tokens that cost it most and
// come back most: a name with digits, dots, colons or brackets (a host and
// its port, a class name, a thread, a component with its pid), which
// classify reads several times over (as a key=value, a call, a numbered
// name, parts apart, a qualified name) and which a log repeats line after
// line. The cache holds only what classify returns for the same bytes, so
// it changes no answer (TestClassifyMemo); it only spares the work.

// memoBytes is the longest token the cache keeps, four words.
const memoBytes = 32

// memoBits sizes the cache: 4096 entries of 40 bytes (160 KiB, within a
// core's L2 cache), allocated by the first message. A source's names
// are more than 1024 entries hold: with 1024, the miner of each Loghub
// sample (2,000 messages, repeated) missed 0.60 tokens a line that it
// had seen before, with 4096 0.26, which takes 3.5 % of the instructions
// and 8 % of the mispredicted branches off a line; 8192 gains nothing
// more.
const memoBits = 12

// memoEntry is one token and classify's answer for it.
type memoEntry struct {
	w      [memoBytes / 8]uint64 // the token's bytes, zero padded
	n      uint8                 // its length; 0 marks an empty entry
	kind   uint8
	vs, ve uint8
}

// longBytes is the longest token the cache of long tokens keeps, and
// longBits sizes it: 512 entries, each with a copy of its token. A long
// token with a byte of class (a path, a class name, a host, an id, a
// list of key=value pairs) costs classify most, a full reading per rule
// (varSpan, multiValue, isPath...): in one pass over each Loghub sample
// 71 % of such tokens (7,602 of 0.24 a line) had been seen before in
// the sample (79 % of the short ones).
const (
	longBytes = 256
	longBits  = 9
)

// longEntry is one long token, by its hash and bytes, and classify's
// answer for it.
type longEntry struct {
	h      uint64
	b      []byte // a copy of the token; nil marks an empty entry
	kind   uint8
	vs, ve int32
}

// memo is a direct-mapped cache from a token to its class: tokens up to
// memoBytes in e, longer ones up to longBytes in long.
type memo struct {
	e    []memoEntry
	long []longEntry
}

// memoWorthy reports the tokens the cache is for: at most memoBytes long,
// not starting with a digit (a number is classified at a glance, and is
// rarely seen twice), with a byte that makes classify look further than
// a plain word.
func memoWorthy(b []byte, fl uint8) bool {
	return len(b) <= memoBytes && len(b) > 0 && fl&(cDigit|cDot|cColon|cEq|cSlash|cPart) != 0
}

// classify is classify, answered from the cache when it can be.
func (mc *memo) classify(b []byte, fl uint8, off rule) (kind uint8, vs, ve int32) {
	if fl == 0 {
		// Letters, maybe in punctuation of no class ("(no", "don't"):
		// a word, constant unless it may be one of the special words
		// (see classifyToken's last rule), which most are not.
		i, j := coreSpan(b)
		if i < j && !specialCandidate(b[i:j]) {
			return kConst, int32(i), int32(j)
		}
	}
	if !memoWorthy(b, fl) {
		if len(b) > memoBytes && len(b) <= longBytes && fl != 0 {
			return mc.classifyLong(b, fl, off)
		}
		// classify, with its call to glueAngles inlined here (classify
		// itself is too large to inline).
		kind, vs, ve = classifyToken(b, fl, off)
		if angled(b, kind, vs, ve) {
			vs, ve = glueAngles(b, kind, vs, ve, off)
		}
		return kind, vs, ve
	}
	var w [memoBytes / 8]uint64
	if n := len(b); cap(b) >= memoBytes {
		// The array under b goes on for memoBytes bytes, as it does for
		// most tokens of a message: four loads, and what is past len(b)
		// masked off, without a test of the length (a loop of one load
		// per eight bytes was mispredicted at its end about every other
		// token, and cost half of a hit's instructions).
		m, c := &lenMasks[n], b[:memoBytes]
		w[0] = binary.LittleEndian.Uint64(c[0:8]) & m[0]
		w[1] = binary.LittleEndian.Uint64(c[8:16]) & m[1]
		w[2] = binary.LittleEndian.Uint64(c[16:24]) & m[2]
		w[3] = binary.LittleEndian.Uint64(c[24:32]) & m[3]
	} else {
		for k := 0; k < n; k += 8 {
			w[k/8] = load8(b[k:])
		}
	}
	if mc.e == nil {
		mc.e = make([]memoEntry, 1<<memoBits)
	}
	e := &mc.e[memoSlot(&w, len(b))]
	if int(e.n) == len(b) && e.w == w {
		return e.kind, int32(e.vs), int32(e.ve)
	}
	kind, vs, ve = classify(b, fl, off)
	*e = memoEntry{w: w, n: uint8(len(b)), kind: kind, vs: uint8(vs), ve: uint8(ve)}
	return kind, vs, ve
}

// lenMasks has, for each length n up to memoBytes, the masks of the
// first n bytes of four words.
var lenMasks = func() (t [memoBytes + 1][memoBytes / 8]uint64) {
	for n := range t {
		for k := range t[n] {
			r := min(max(n-8*k, 0), 8)
			t[n][k] = 1<<(8*uint(r)) - 1
		}
	}
	return t
}()

// memoSlot is the cache slot of a token of n bytes in words w: the words
// multiplied apart (no chain of dependent steps) and mixed once.
func memoSlot(w *[memoBytes / 8]uint64, n int) uint64 {
	h := w[0]*0x9E3779B97F4A7C15 ^ w[1]*0xC2B2AE3D27D4EB4F ^ w[2]*0x165667B19E3779F9 ^ w[3]*0xD6E8FEB86659FD93 ^ uint64(n)
	return mix(h) >> (64 - memoBits)
}

// classifyLong is classify for a token longer than memoBytes, answered
// from the cache of long tokens when it can be. The entry keeps its
// copy's array, so a miss allocates only when the token is longer than
// the entry's last one.
func (mc *memo) classifyLong(b []byte, fl uint8, off rule) (kind uint8, vs, ve int32) {
	h := hashBytes(uint64(len(b)), b)
	if mc.long == nil {
		mc.long = make([]longEntry, 1<<longBits)
	}
	e := &mc.long[h>>(64-longBits)]
	if e.h == h && string(e.b) == string(b) {
		return e.kind, e.vs, e.ve
	}
	kind, vs, ve = classify(b, fl, off)
	e.h, e.b, e.kind, e.vs, e.ve = h, append(e.b[:0], b...), kind, vs, ve
	return kind, vs, ve
}
