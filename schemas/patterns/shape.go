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
// variables after a variable or key=<*> collapse; consecutive constants
// are hashed as one span. A message with a double quote may hold a quoted
// value over several tokens, which needs look-ahead: it takes tokenize.
func (sc *scratch) shapeKey(msg []byte) uint64 {
	var (
		h      = uint64(fnvOffset)
		units  uint64 // units emitted, as keyHash counts them
		prev   = kConst
		last   = uConst // kind of the last unit emitted (uConst when none)
		runS   = int32(-1)
		runE   int32 // open span of constants
		pendS  = int32(-1)
		pendE  int32 // pending time words
		pendN  uint64
		anyVar bool // the current run of time words and variables holds a variable
		ntok   int
	)
	n := len(msg)
	i := 0
	for i < n {
		for i < n && byteClass[msg[i]] == cSpace {
			i++
		}
		if i >= n {
			break
		}
		j := i
		var fl uint8
		for j < n {
			f := byteClass[msg[j]]
			if f == cSpace {
				break
			}
			fl |= f
			j++
		}
		var kind uint8
		var vs, ve int32
		if ntok == maxTokens-1 {
			j = n
			for j > i && isSpace(msg[j-1]) {
				j--
			}
			kind = kVar
		} else {
			if fl&cQuote != 0 {
				sc.tokenize(msg)
				return keyHash(msg, sc.units)
			}
			kind, vs, ve = classify(msg[i:j], fl)
			if kind == kUnitWord && (prev == kVar || prev == kKV) {
				kind = kVar
			}
		}
		ntok++
		s, e := int32(i), int32(j)
		i = j
		// Time words: resolved by the run they are in.
		if kind == kTimeWord {
			if prev == kVar || prev == kTimeWord && anyVar {
				anyVar = true
				prev = kTimeWord
				kind = kVar // emitted as a variable below
				goto emit
			}
			if pendS < 0 {
				pendS = s
			}
			pendE = e
			pendN++
			prev = kTimeWord
			continue
		}
		if pendS >= 0 {
			if kind == kVar {
				// The pending time words are part of a date: one variable.
				if runS >= 0 {
					h = mix(hashBytes(mix(h^1), msg[runS:runE]))
					runS = -1
				}
				if last == uConst {
					h = mix(h ^ (uint64(kVar) + 1))
					units++
					last = uVar
				}
			} else {
				if runS < 0 {
					runS = pendS
				}
				runE = pendE
				units += pendN
				last = uConst
			}
			pendS, pendN = -1, 0
		}
		anyVar = kind == kVar
		prev = kind
	emit:
		switch kind {
		case kVar:
			if last != uConst {
				continue
			}
			if runS >= 0 {
				h = mix(hashBytes(mix(h^1), msg[runS:runE]))
				runS = -1
			}
			h = mix(h ^ (uint64(kVar) + 1))
			last = uVar
		case kKV:
			if runS >= 0 {
				h = mix(hashBytes(mix(h^1), msg[runS:runE]))
				runS = -1
			}
			h = mix(h ^ (uint64(kKV) + 1))
			h = hashBytes(h, msg[s:s+vs])
			h = hashBytes(h, msg[s+ve:e])
			last = uKV
		default:
			if runS < 0 {
				runS = s
			}
			runE = e
			last = uConst
		}
		units++
	}
	if pendS >= 0 {
		if runS < 0 {
			runS = pendS
		}
		runE = pendE
		units += pendN
	}
	if runS >= 0 {
		h = mix(hashBytes(mix(h^1), msg[runS:runE]))
	}
	return mix(h ^ units)
}

// keyHash hashes the unit sequence of a message as shapeKey does: a run
// of constants by the bytes it spans (white space between them included:
// the same bytes are the same tokens, and other white space only costs a
// second key for the same pattern), a variable by a marker, key=<*> by the
// key and the text after the value. It only feeds the key cache, never an
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
			h = mix(h ^ (uint64(kVar) + 1))
		case kKV:
			h = mix(h ^ (uint64(kKV) + 1))
			h = hashBytes(h, msg[u.s:u.vs])
			h = hashBytes(h, msg[u.ve:u.e])
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
// near its end, so the bytes after are usually there).
func load8(b []byte) uint64 {
	if cap(b) >= 8 {
		w := binary.LittleEndian.Uint64(b[:8])
		if len(b) < 8 {
			w &= 1<<(8*uint(len(b))) - 1
		}
		return w
	}
	var w uint64
	for k, c := range b {
		w |= uint64(c) << (8 * k)
	}
	return w
}
