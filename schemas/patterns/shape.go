package patterns

import "encoding/binary"

// This file is the miner's fast path: the key of a message (the hash of
// its unit sequence) computed in one pass over the bytes, without storing
// the tokens. Most messages have a known key, so for them this pass is
// the whole work; tokenize, which keeps the units, runs only for a new
// key. Both give the same key for the same message (TestShapeKeyAgrees).

// shapeKey returns the key of msg. It cuts and classifies each token as
// scan does and applies the rules of tokenize as it goes: a unit word
// after a variable is a variable; time words wait (pending) until their
// run of time words and variables shows whether it holds a variable;
// variables after a variable or key=<*> collapse unless punctuation
// separates them; consecutive constants are hashed as one span. A quoted
// value over several tokens (tag="View Lock") is one key=<*> unit, found
// by looking ahead for the token that closes it, as tokenize does.
func (sc *scratch) shapeKey(msg []byte) uint64 {
	// The loop's own state is in k too (see keyState.loop).
	k := keyState{h: fnvOffset, runS: -1, open: kConst, off: sc.off, loop: loop{prev: kConst, pendS: -1}}
	n := len(msg)
	for i, j, fl := nextToken(msg, 0); i < n; i, j, fl = nextToken(msg, j) {
		if fl == 0 && k.ntok < maxTokens-1 {
			// A word of letters, most tokens: a constant unless it may be
			// a special word (as memo.classify decides it first), added
			// here without the rules for other kinds.
			// coreSpan, after one test of the first and last bytes for
			// the common case, a word with no punctuation around it:
			// coreSpan's loops cost a word more than the rest of its
			// handling here.
			a, b := 0, j-i
			if punct[msg[i]]|punct[msg[j-1]] != 0 {
				a, b = coreSpan(msg[i:j])
			}
			if a < b && !specialCandidate(msg[i+a:i+b]) {
				k.ntok++
				k.quoted = false
				if k.pendS >= 0 {
					k.constSpan(msg, k.pendS, k.pendE, k.pendN)
					k.pendS, k.pendN = -1, 0
				}
				k.anyVar, k.prev = false, kConst
				if k.open == kConst && k.runS >= 0 {
					k.runE = int32(j)
					k.units++
				} else {
					k.constSpan(msg, int32(i), int32(j), 1)
				}
				continue
			}
		}
		var kind uint8
		var vs, ve int32
		weak, unit, multi := false, false, false
		if k.ntok == maxTokens-1 {
			j = restEnd(msg, i)
			kind, vs, ve = kVar, 0, int32(j-i)
		} else {
			k.quoted = false
			if fl&cQuote != 0 {
				if q := quoteOpen(msg[i:j]); q > 0 {
					if k.ntok+quoteSpan >= maxTokens-1 {
						// Near the token cap: tokenize knows where it cuts.
						sc.tokenize(msg)
						return keyHash(msg, sc.units)
					}
					if s2, e2, t := closingQuote(msg, j); t > 0 {
						kind, vs, ve = kKV, int32(q+1), int32(s2+trailStart(msg[s2:e2])-i)
						j = e2
						k.ntok += t
						k.quoted = true
					}
				}
			}
			if !k.quoted {
				kind, vs, ve = sc.memo.classify(msg[i:j], fl, sc.off)
			}
			if fl&cSlash != 0 && kind == kVar && sc.off&rProduct == 0 && k.ntok < maxTokens-2 && int(ve) == j-i && productToken(msg[i+int(vs):j]) {
				// A product's comment (see tokenize): one token more.
				if s2, e2, _ := nextToken(msg, j); s2 < n {
					if c := productComment(msg[s2:e2]); c > 0 && classifyConst(msg[s2:e2], sc.off) {
						ve = int32(s2 + c - i)
						j = e2
						k.ntok++
					}
				}
			}
			if k.quoted {
			} else if kind == kWeak {
				kind, weak = kVar, true
			} else if kind == kMulti {
				kind, multi = kVar, true
			}
			if kind == kUnitWord && (k.prev == kVar || k.prev == kKV) {
				kind, unit = kVar, true
			}
		}
		k.ntok++
		s, e := int32(i), int32(j)
		vs += s
		ve += s
		// Time words: resolved by the run they are in.
		if kind == kTimeWord {
			if k.prev == kVar || k.prev == kTimeWord && k.anyVar {
				k.anyVar = true
				k.prev = kTimeWord
				k.varTok(msg, s, vs, ve, e, false, false, false)
				continue
			}
			if k.pendS < 0 {
				k.pendS = s
			}
			k.pendE = e
			k.pendN++
			k.prev = kTimeWord
			continue
		}
		if k.pendS >= 0 {
			if kind == kVar {
				// The pending time words are part of a date.
				k.pendingVars(msg, k.pendS, k.pendE)
			} else {
				k.constSpan(msg, k.pendS, k.pendE, k.pendN)
			}
			k.pendS, k.pendN = -1, 0
		}
		k.anyVar = kind == kVar
		k.prev = kind
		if k.quoted {
			// The tokens of the k.quoted value are kSkip in tokenize: the
			// token before the next one is not the value.
			k.prev = kSkip
		}
		switch kind {
		case kVar:
			k.varTok(msg, s, vs, ve, e, weak, unit, multi)
		case kKV:
			k.kvTok(msg, s, vs, ve, e)
		default:
			k.constSpan(msg, s, e, 1)
		}
	}
	if k.pendS >= 0 {
		k.constSpan(msg, k.pendS, k.pendE, k.pendN)
	}
	return k.finish(msg)
}

// keyState is the running key of shapeKey: at most one unit is open, a
// run of constants or a variable (or key=<*>) that the next token may
// still extend.
type keyState struct {
	h                uint64
	units            uint64 // units emitted, as keyHash counts them
	runS, runE       int32  // open span of constants (runS < 0: none)
	open             uint8  // kVar or kKV when a variable unit is open, else kConst
	oS, oVS, oVE, oE int32  // the open variable: span, and its value inside
	oWeak            bool   // the open variable is a numbered name alone (fWeak)
	oMulti           bool   // the open variable is one token of several values (tok.multi)
	oUnit            bool   // the open variable is a number and its unit (fUnit)
	oN               uint8  // tokens in the open variable (tok.n)
	oUS, oUE         int32  // with oUnit: the end of the number and of a restated unit (tok.us, tok.ue)
	off              rule   // rules turned off (scratch.off)
	loop
}

// loop is the state of shapeKey's loop besides the key. It is kept in
// keyState, in memory, rather than in variables of shapeKey: with these
// in registers the compiler saved and restored them all around each call
// of nextToken (about 30 instructions a token), and when nextToken was
// inlined, it kept the byte loop's own values on the stack instead; the
// fast path of a word touches only a few of them.
type loop struct {
	prev   uint8 // the kind of the token before
	pendS  int32 // the span of the pending time words (pendS < 0: none)
	pendE  int32
	pendN  uint64
	anyVar bool // the current run of time words and variables holds a variable
	ntok   int  // tokens read
	quoted bool // the token opens a quoted value that spans tokens: key="a b"
}

// flushRun hashes the open run of constants.
func (k *keyState) flushRun(msg []byte) {
	if k.runS >= 0 {
		k.h = mix(hashBytes(mix(k.h^1), msg[k.runS:k.runE]))
		k.runS = -1
	}
}

// flushVar hashes the open variable unit as keyHash does.
func (k *keyState) flushVar(msg []byte) {
	switch k.open {
	case kVar:
		ve := closeBrackets(msg, k.oVS, k.oVE, k.oE)
		k.h = varHash(k.h, msg, k.oS, k.oVS, ve, k.oE, k.oMulti)
		if k.oWeak {
			k.h = hashBytes(k.h, msg[k.oVS:ve])
		}
		if k.oUnit {
			k.h = hashBytes(k.h, msg[k.oUS:unitEnd(k.oUE, ve)])
		}
	case kKV:
		k.h = kvHash(k.h, msg, k.oS, k.oVS, k.oVE, k.oE)
	}
	k.open = kConst
}

// constSpan adds n constant tokens spanning msg[s:e].
func (k *keyState) constSpan(msg []byte, s, e int32, n uint64) {
	if k.open != kConst {
		k.flushVar(msg)
	}
	if k.runS < 0 {
		k.runS = s
	}
	k.runE = e
	k.units += n
}

// varTok adds a variable token, with its value at msg[vs:ve].
func (k *keyState) varTok(msg []byte, s, vs, ve, e int32, weak, unit, multi bool) {
	if k.open != kConst && !k.oMulti && !multi && !nameAfterValue(weak, k.oN, k.oWeak) && joinable(msg[k.oVE:k.oE], msg[s:vs], k.open == kVar && k.oUnit && k.off&rRestated == 0, msg, e) {
		switch {
		case k.open == kVar && k.oN == 1 && !k.oWeak && unit:
			k.oUnit, k.oUS, k.oUE = true, k.oVE, 0
		case k.oUnit && k.oUE == 0 && vs > s && msg[s] == '(':
			k.oUE = k.oVE // restated in brackets (see tokenize)
		case k.oUnit && k.oUE != 0 && k.oN == 3 && unit:
		default:
			k.oUnit = false
		}
		k.oVE, k.oE = ve, e
		k.oWeak, k.oMulti = false, false
		if k.oN < 255 {
			k.oN++
		}
		return
	}
	if k.open != kConst {
		k.flushVar(msg)
	}
	if k.runS >= 0 {
		k.flushRun(msg)
	}
	k.open, k.oS, k.oVS, k.oVE, k.oE, k.oWeak, k.oMulti = kVar, s, vs, ve, e, weak, multi
	k.oUnit, k.oN, k.oUE = false, 1, 0
	k.units++
}

// unitEnd is the end of a quantity's unit text: ue when the quantity is
// restated in brackets after it, else the variable's end ve.
func unitEnd(ue, ve int32) int32 {
	if ue != 0 {
		return ue
	}
	return ve
}

// kvTok adds a key=value token.
func (k *keyState) kvTok(msg []byte, s, vs, ve, e int32) {
	k.flushVar(msg)
	k.flushRun(msg)
	k.open, k.oS, k.oVS, k.oVE, k.oE, k.oWeak, k.oMulti = kKV, s, vs, ve, e, false, false
	k.oUnit, k.oN = false, 1
	k.units++
}

// pendingVars adds the time words of msg[s:e] as variable tokens.
func (k *keyState) pendingVars(msg []byte, s, e int32) {
	for i := s; i < e; {
		for i < e && isSpace(msg[i]) {
			i++
		}
		j := i
		for j < e && !isSpace(msg[j]) {
			j++
		}
		if i < j {
			a, b := coreSpan(msg[i:j])
			k.varTok(msg, i, i+int32(a), i+int32(b), j, false, false, false)
		}
		i = j
	}
}

func (k *keyState) finish(msg []byte) uint64 {
	k.flushVar(msg)
	k.flushRun(msg)
	return mix(k.h ^ k.units)
}

// varHash mixes a variable unit into h: a marker, the punctuation around
// it when it has some, and the text between its values when it has
// several (multi, see valueMask).
func varHash(h uint64, msg []byte, s, vs, ve, e int32, multi bool) uint64 {
	h = mix(h ^ (uint64(kVar) + 1))
	if vs > s || ve < e {
		h = hashBytes(hashBytes(h, msg[s:vs]), msg[ve:e])
	}
	if multi {
		h = maskHash(h, msg[vs:ve])
	}
	return h
}

// maskHash mixes into h the template text valueMask gives b, without
// building it: a marker per value part, the other parts and the
// separators as they are.
func maskHash(h uint64, b []byte) uint64 {
	valueParts(b, func(part []byte, value bool, sep byte) {
		switch {
		case sep != 0:
			h = mix(h ^ uint64(sep)<<8)
		case value:
			h = mix(h ^ 0x2a)
		default:
			h = hashBytes(h, part)
		}
	})
	return h
}

// kvHash mixes a key=<*> unit into h: a marker, the key and the text after
// the value.
func kvHash(h uint64, msg []byte, s, vs, ve, e int32) uint64 {
	h = mix(h ^ (uint64(kKV) + 1))
	h = hashBytes(h, msg[s:vs])
	return hashBytes(h, msg[ve:e])
}

// keyHash hashes the unit sequence of a message as shapeKey does: a run
// of constants by the bytes it spans (white space between them included:
// the same bytes are the same tokens, and other white space only costs a
// second key for the same pattern), a variable by a marker and the
// punctuation around it, key=<*> by the key and the text after the value. It only feeds the key cache, never an
// ID, so it is free to be fast rather than standard.
func keyHash(msg []byte, units []tok) uint64 {
	h := uint64(fnvOffset)
	for k := 0; k < len(units); k++ {
		u := units[k]
		switch u.kind {
		case kConst:
			e := u.e
			for k+1 < len(units) && units[k+1].kind == kConst {
				k++
				e = units[k].e
			}
			h = mix(hashBytes(mix(h^1), msg[u.s:e]))
		case kVar:
			h = varHash(h, msg, u.s, u.vs, u.ve, u.e, u.multi)
			if u.flags&fWeak != 0 {
				h = hashBytes(h, msg[u.vs:u.ve])
			}
			if u.flags&fUnit != 0 {
				h = hashBytes(h, msg[u.us:unitEnd(u.ue, u.ve)])
			}
		case kKV:
			h = kvHash(h, msg, u.s, u.vs, u.ve, u.e)
		}
	}
	return mix(h ^ uint64(len(units)))
}

// mix is a 64-bit multiply-xorshift step.
func mix(h uint64) uint64 {
	h *= 0x9E3779B97F4A7C15
	return h ^ h>>29
}

// hashBytes mixes b into h eight bytes at a time.
func hashBytes(h uint64, b []byte) uint64 {
	for len(b) >= 8 {
		h = mix(h ^ binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	return mix(h ^ load8(b) ^ uint64(len(b))<<59)
}

// load8 returns the first min(len(b), 8) bytes of b little endian, zero
// padded. When the array under b goes on for eight bytes it reads them in
// one load and masks what is past len(b) (a message's last token ends
// near its end, so the bytes after are usually there). The mask is
// computed without a test: a shift by 64 bits or more gives 0 in Go, so
// the mask of eight bytes or more is all ones (a test of len(b) < 8 was
// mispredicted a third of the time: the tail of a hashed span, and an
// empty affix, are of any length).
func load8(b []byte) uint64 {
	if cap(b) >= 8 {
		return binary.LittleEndian.Uint64(b[:8]) & (1<<(8*uint(len(b))) - 1)
	}
	var w uint64
	for k, c := range b {
		w |= uint64(c) << (8 * k)
	}
	return w
}

// classifyConst reports whether classify takes the token b for a
// constant, as tokenize needs of a product's comment.
func classifyConst(b []byte, off rule) bool {
	_, _, fl := nextToken(b, 0)
	kind, _, _ := classify(b, fl, off)
	return kind == kConst
}

// quoteSpan is how many tokens tokenize looks at for the closing quote of
// a quoted value, the opening token included.
const quoteSpan = 32

// closingQuote finds, among the quoteSpan-1 tokens of msg from i on, the
// first that holds a double quote: its span, and how many tokens it is
// from the opening one (1 for the next); t is 0 when there is none.
func closingQuote(msg []byte, i int) (s, e, t int) {
	for t = 1; t < quoteSpan; t++ {
		var fl uint8
		s, e, fl = nextToken(msg, i)
		if s >= len(msg) {
			return 0, 0, 0
		}
		if fl&cQuote != 0 {
			return s, e, t
		}
		i = e
	}
	return 0, 0, 0
}

// trailStart is where the punctuation at the end of b begins.
func trailStart(b []byte) int {
	k := len(b)
	for k > 0 && isTrailPunct(b[k-1]) {
		k--
	}
	return k
}
