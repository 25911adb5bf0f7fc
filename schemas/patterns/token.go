package patterns

import (
	"bytes"
	"strings"
)

// This file turns a message into the unit sequence the miner groups by:
// split on white space, classify every token (constant, variable, key=value
// with a variable value, time word, unit word), then collapse runs of
// variables into one. The whole step is allocation free; strings are only
// built when a message opens a new key (the slow path of the miner).

// Token kinds after classification.
const (
	kConst    uint8 = iota // literal text, part of the pattern's identity
	kVar                   // a variable: number, id, address, path, quoted text...
	kKV                    // key=value whose value is variable: the key stays, the value is <*>
	kTimeWord              // month or weekday name: a variable when next to a variable (a date)
	kUnitWord              // a unit (KB, sec, bytes...): a variable when it follows a variable
	kSkip                  // part of the quoted value of the key=value before it
	kWeak                  // from classify only: a numbered name, a kVar with fWeak (see numberedName)
	kMulti                 // from classify only: a kVar with several values in it, tok.multi (see multiValue)
)

// fWeak marks in tok.flags a variable that is a numbered name on its own:
// its unit shows the name until a second value is seen there.
const fWeak uint8 = 1 << 7

// fUnit marks in tok.flags a unit word that follows a variable and, on a
// unit, a number followed by its unit word ("5 ms"): the unit shows the
// word until another one is seen there ("<*> ms"). (A token holds no
// space, so the bit of cSpace is free.)
const fUnit = cSpace

// Unit kinds in a template. A kv unit's text is its display form, e.g.
// "rhost=<*>"; a var unit has no text.
const (
	uConst uint8 = iota
	uVar
	uKV
)

// Wildcard is how a variable is written in a template, as in the Loghub
// benchmark's ground truth.
const Wildcard = "<*>"

// maxTokens bounds the tokens looked at per message, so one pathological
// line cannot make the miner slow or large; the rest of such a line becomes
// one trailing variable.
const maxTokens = 512

// tok is one white-space separated token of a message.
type tok struct {
	s, e   int32 // span in the message
	vs, ve int32 // the span of the value inside the token (kKV), of the variable without its punctuation (kVar)
	kind   uint8
	flags  uint8 // byteClass bits of all its bytes, and fWeak, fUnit
	n      uint8 // tokens in a unit (at most 255)
	multi  bool  // a one-token variable whose value holds several values apart (see multiValue)
	us     int32 // with fUnit: the end of the number, where the unit word's text begins
	ue     int32 // with fUnit, when the quantity is restated in brackets: the end of its unit word, else 0
}

// Byte classes, or-ed over a token while it is cut, so that classify only
// looks for what the token can be.
const (
	cSpace uint8 = 1 << iota
	cDigit
	cEq
	cSlash // '/' or '\'
	cQuote // '"'
	cDot
	cColon
	// cPart marks the bytes that cut a token into parts for varSpan
	// (brackets, '|', ';', ','). Only byteClass and the flags of a token
	// being cut hold it: in tok.flags the bit is fWeak.
	cPart
)

// byteClass is a read-only table from byte to class bits.
var byteClass = func() (t [256]uint8) {
	for _, c := range []byte(" \t\n\r\v\f") {
		t[c] = cSpace
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	t['='] = cEq
	t['/'], t['\\'] = cSlash, cSlash
	t['"'] = cQuote
	t['.'] = cDot
	t[':'] = cColon
	for _, c := range []byte("()[]{}|;,#") {
		t[c] = cPart
	}
	return t
}()

// scratch holds the per-message working memory of a Miner, reused across
// messages so the hot path does not allocate.
type scratch struct {
	toks  []tok
	units []tok // after collapsing: kind is kConst, kVar or kKV
	off   rule  // rules turned off (tests only, see rule)
	memo  memo  // classify's answers for tokens seen before
}

// isSpace reports the separators between tokens. Only ASCII white space:
// logs are mostly ASCII and other separators (',', ':') are too often part
// of constant words to split on.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// split fills sc.toks with the token spans of msg. It is also the baseline
// of the benchmark: the least any tokenizing parser must do.
func (sc *scratch) split(msg []byte) {
	sc.toks = sc.toks[:0]
	n := len(msg)
	i := 0
	for i < n {
		for i < n && isSpace(msg[i]) {
			i++
		}
		if i >= n {
			break
		}
		j := i
		for j < n && !isSpace(msg[j]) {
			j++
		}
		if len(sc.toks) == maxTokens-1 {
			// Keep the rest as one token; it will be a variable.
			sc.toks = append(sc.toks, tok{s: int32(i), e: int32(restEnd(msg, i)), kind: kVar})
			return
		}
		sc.toks = append(sc.toks, tok{s: int32(i), e: int32(j)})
		i = j
	}
}

// nextToken finds the token of msg at or after i: its start s (len(msg)
// when there is none), its end e and the union of its bytes' classes,
// which tell classify what the token can be. scan and shapeKey cut
// messages with it, so the two agree on the tokens (TestShapeKeyAgrees).
// It is inlined into shapeKey's loop, which keeps its own state in
// memory (see loop) so that the byte loop's values stay in registers:
// eight instructions a byte, where a call once a token cost some
// thirty in saving and restoring the loop's values.
func nextToken(msg []byte, i int) (s, e int, fl uint8) {
	// Unsigned indexes: compared with len(msg), they need no bounds
	// check (a signed one may be negative), an instruction a byte less.
	n, u := uint(len(msg)), uint(i)
	for u < n && byteClass[msg[u]] == cSpace {
		u++
	}
	v := u
	for v < n {
		f := byteClass[msg[v]]
		if f == cSpace {
			break
		}
		fl |= f
		v++
	}
	return int(u), int(v), fl
}

// restEnd is the end of the last token a message may have (maxTokens),
// which starts at i: the rest of the message, trailing space trimmed.
func restEnd(msg []byte, i int) int {
	j := len(msg)
	for j > i && isSpace(msg[j-1]) {
		j--
	}
	return j
}

// scan is split that also classifies each token, in one pass.
func (sc *scratch) scan(msg []byte) (quotes bool) {
	sc.toks = sc.toks[:0]
	n := len(msg)
	for i, j, fl := nextToken(msg, 0); i < n; i, j, fl = nextToken(msg, j) {
		if len(sc.toks) == maxTokens-1 {
			j = restEnd(msg, i)
			sc.toks = append(sc.toks, tok{s: int32(i), e: int32(j), vs: int32(i), ve: int32(j), kind: kVar})
			return quotes
		}
		kind, vs, ve := sc.memo.classify(msg[i:j], fl, sc.off)
		fl &^= cPart
		multi := kind == kMulti
		if kind == kWeak {
			kind, fl = kVar, fl|fWeak
		} else if multi {
			kind = kVar
		}
		sc.toks = append(sc.toks, tok{s: int32(i), e: int32(j), vs: int32(i) + vs, ve: int32(i) + ve, kind: kind, flags: fl, multi: multi})
		quotes = quotes || fl&cQuote != 0
	}
	return quotes
}

// tokenize splits msg and computes the unit sequence in sc.units.
func (sc *scratch) tokenize(msg []byte) {
	quotes := sc.scan(msg)
	toks := sc.toks
	// A double-quoted value that spans tokens is one variable:
	// tag="View Lock". Free-standing quoted text ("GET /x HTTP/1.1") is
	// left to the token rules: its words are often the kind of event.
	for i := 0; quotes && i < len(toks); i++ {
		if toks[i].flags&cQuote == 0 {
			continue
		}
		b := msg[toks[i].s:toks[i].e]
		q := quoteOpen(b)
		if q <= 0 {
			continue
		}
		end := -1
		for j := i + 1; j < len(toks) && j < i+quoteSpan; j++ {
			if toks[j].flags&cQuote != 0 {
				end = j
				break
			}
		}
		if end < 0 {
			continue
		}
		// The key stays, the value is <*>, and the punctuation after the
		// closing quote is kept as classify keeps it for a one-word value
		// (tag="AudioMix", and tag="View Lock", are one template).
		k := trailStart(msg[toks[end].s:toks[end].e])
		toks[i].kind = kKV
		toks[i].vs = toks[i].s + int32(q) + 1
		toks[i].e = toks[end].e
		toks[i].ve = toks[end].s + int32(k)
		for j := i + 1; j <= end; j++ {
			toks[j].kind = kSkip
		}
		i = end
	}
	// A product's comment belongs to its version: "Apache/2.2.3
	// (Fedora)" is one value.
	for i := 1; sc.off&rProduct == 0 && i < len(toks); i++ {
		if toks[i-1].kind == kVar && toks[i].kind == kConst && productToken(msg[toks[i-1].vs:toks[i-1].ve]) && toks[i-1].ve == toks[i-1].e {
			if n := productComment(msg[toks[i].s:toks[i].e]); n > 0 {
				toks[i-1].e, toks[i-1].ve = toks[i].e, toks[i].s+int32(n)
				toks = append(toks[:i], toks[i+1:]...) // gone, as shapeKey never sees it
				sc.toks = toks
			}
		}
	}
	// Unit words after a variable belong to it ("4.35 KB", "<1 sec").
	for i := 1; i < len(toks); i++ {
		if toks[i].kind == kUnitWord && (toks[i-1].kind == kVar || toks[i-1].kind == kKV) {
			toks[i].kind = kVar
			toks[i].flags |= fUnit
		}
	}
	// Time words in a run that holds a variable are part of a date:
	// "Fri Jun 17 07:07:00 2005".
	for i := 0; sc.off&rTimeWords == 0 && i < len(toks); {
		if toks[i].kind != kTimeWord && toks[i].kind != kVar {
			i++
			continue
		}
		j, hasVar := i, false
		for j < len(toks) && (toks[j].kind == kTimeWord || toks[j].kind == kVar) {
			hasVar = hasVar || toks[j].kind == kVar
			j++
		}
		for k := i; k < j; k++ {
			if toks[k].kind == kTimeWord {
				if hasVar {
					toks[k].kind = kVar
				} else {
					toks[k].kind = kConst
				}
			}
		}
		i = j
	}
	// Collapse: a variable right after a variable (or a key=<*>) adds
	// nothing, so a variable may span any number of tokens ("Jun 17
	// 07:07:00"), unless punctuation between them is part of the text
	// ("from 10.0.0.1 (host.example.com)", "from 10.0.0.1: 11:", "1, 2").
	sc.units = sc.units[:0]
	for _, t := range toks {
		switch t.kind {
		case kSkip:
			continue
		case kVar:
			if n := len(sc.units); n > 0 && sc.units[n-1].kind != kConst && !sc.units[n-1].multi && !t.multi && !nameAfterValue(t.flags&fWeak != 0, sc.units[n-1].n, sc.units[n-1].flags&fWeak != 0) && joinable(msg[sc.units[n-1].ve:sc.units[n-1].e], msg[t.s:t.vs], sc.units[n-1].flags&fUnit != 0 && sc.off&rRestated == 0, msg, t.e) {
				p := &sc.units[n-1]
				switch {
				case p.kind == kVar && p.n == 1 && p.flags&fWeak == 0 && t.flags&fUnit != 0:
					p.us, p.ue = p.ve, 0 // a number and its unit: "<*> ms"
					p.flags |= fUnit
				case p.flags&fUnit != 0 && p.ue == 0 && t.vs > t.s && msg[t.s] == '(':
					// The quantity restated in brackets ("4464 bytes
					// (4.35 KB)"): the unit shown is still the first one.
					p.ue = p.ve
				case p.flags&fUnit != 0 && p.ue != 0 && p.n == 3 && t.flags&fUnit != 0:
					// The restatement's own unit.
				default:
					p.flags &^= fUnit
				}
				p.e, p.ve = t.e, t.ve
				p.flags &^= fWeak
				p.multi = false
				if p.n < 255 {
					p.n++
				}
				continue
			}
			t.flags &^= fUnit
			t.n = 1
		case kKV:
			t.n = 1
		default:
			t.kind = kConst
		}
		sc.units = append(sc.units, t)
	}
	for k := range sc.units {
		if u := &sc.units[k]; u.kind == kVar {
			u.ve = closeBrackets(msg, u.vs, u.ve, u.e)
		}
	}
}

// closeBrackets moves the end of a variable msg[vs:ve] past the closing
// brackets after it that close brackets opened inside it: "(4.35 KB)"
// after "4464 bytes" is all variable, its ")" too.
func closeBrackets(msg []byte, vs, ve, e int32) int32 {
	if ve >= e || msg[ve] != ')' {
		return ve
	}
	depth := 0
	for _, c := range msg[vs:ve] {
		if c == '(' {
			depth++
		} else if c == ')' && depth > 0 {
			depth--
		}
	}
	for depth > 0 && ve < e && msg[ve] == ')' {
		ve++
		depth--
	}
	return ve
}

// nameAfterValue reports a shown name (weak: a numbered name, a class)
// and a value next to each other: a variable token (weak or not) right
// after one variable of prevN tokens (prevWeak). A name such as ssh2 or
// SOCKS5 after a port or an address names the protocol, and a user or
// path after u0 is not more of that name: they stay apart ("port <*>
// ssh2", "u0 <*>"). Numbered names next to each other are a list of them
// and join ("an14 an15 an16").
func nameAfterValue(weak bool, prevN uint8, prevWeak bool) bool {
	return prevN <= 1 && weak != prevWeak
}

// joinable reports whether a variable whose text after it is suffix
// continues into the next variable token, whose text before it is prefix:
// with nothing between them they are one variable ("Jun 17 07:07:00").
// Punctuation between them is text that stays, a comma too ("Rect(<*>,
// <*> - <*>, <*>)", "(order: <*>, <*> bytes)"): printed lists are mostly
// of a fixed length, each place a field of its own. Brackets are text: a
// variable in parentheses after a variable ("10.0.0.1 (host)") is a
// second variable, and the parentheses stay in the template ("<*>
// (<*>)"); but a quantity in parentheses right after a
// quantity, a number with its unit (quantity), is the same value restated
// in other units ("4464 bytes (4.35 KB)"), printed or not as it is large
// or small, so it joins it. quantity reports the variable before to be a
// number with its unit; then unitAfter looks at the token after the
// bracketed one (msg from next).
func joinable(suffix, prefix []byte, quantity bool, msg []byte, next int32) bool {
	if quantity && len(prefix) == 1 && prefix[0] == '(' && len(suffix) == 0 {
		return unitAfter(msg, next)
	}
	return len(prefix) == 0 && len(suffix) == 0
}

// unitAfter reports whether the token of msg that starts at or after i is
// a unit word (punctuation around it aside): "KB)" in "(4.35 KB)".
func unitAfter(msg []byte, i int32) bool {
	n := int32(len(msg))
	for i < n && isSpace(msg[i]) {
		i++
	}
	j := i
	for j < n && !isSpace(msg[j]) {
		j++
	}
	if i == j {
		return false
	}
	a, b := coreSpan(msg[i:j])
	return a < b && wordKind(msg[i+int32(a):i+int32(b)])&wUnit != 0
}

// quoteOpen reports whether b opens a double-quoted string it does not
// close: it returns the index of the quote (0 for "abc, 4 for tag="abc), or
// -1.
func quoteOpen(b []byte) int {
	q := -1
	for i, c := range b {
		if c == '"' {
			q = i
			break
		}
		if c == '=' {
			continue
		}
		if !isKeyByte(c) {
			return -1
		}
	}
	if q < 0 || (q > 0 && b[q-1] != '=') {
		return -1
	}
	for _, c := range b[q+1:] {
		if c == '"' {
			return -1
		}
	}
	return q
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// Punctuation classes of a byte, for punct.
const (
	pLead  uint8 = 1 << iota // opens: ( [ { < ' " `
	pTrail                   // closes or ends a phrase: ) ] } > ' " ` , ; : . ! ?
)

// punct is a read-only table from byte to punctuation class.
var punct = func() (t [256]uint8) {
	for _, c := range []byte("([{<'\"`") {
		t[c] |= pLead
	}
	for _, c := range []byte(")]}>'\"`,;:.!?") {
		t[c] |= pTrail
	}
	return t
}()

func isLeadPunct(c byte) bool { return punct[c]&pLead != 0 }

func isTrailPunct(c byte) bool { return punct[c]&pTrail != 0 }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// classify decides what one token is, and returns the span of its value
// inside b: for kKV the value after the key, for the other kinds the token
// without the punctuation around it, which stays in the template as
// written ("(<*>)", "[<*>]:"). The rules, in order:
//
//   - key=value (also key:=value and key.....value) with a key that looks like an identifier: the value decides.
//     An empty value or a plain word (letters, '-', '_'; or a file name,
//     such a word with a dot and an extension) stays constant
//     for now: such values are as often an enumeration (state=open) as
//     data (user=root), and the miner's word rule decides (see compare);
//     any other value, or a quoted one, is a variable and the key stays in
//     the pattern (uid=<*>, tag="<*>").
//   - any digit makes the token a variable: numbers, hex, IPs with ports,
//     UUIDs, times and dates, block and job ids, host names with numbers.
//     A path is one value. A name numbered by the number stays
//     (node-<*>, core.<*>, CPU#<*>, Class@<*>: see namePrefix), and
//     values apart in the token stay apart with the text between them
//     ("<*>/<*>", "<*>|<*>", "(<*>=sup,<*>=usr)": see multiValue).
//   - paths (/a/b, ./a, ~/a) and URLs (x://...) are variables; a web
//     address (http, https) is one value, where a URL of another scheme
//     keeps it (hdfs://<*>); a path after a label is a key's value
//     (path:<*>); a path ends at white space, full stops and all.
//   - qualified names of three or more dotted parts with a capital letter
//     (Java classes, host names: org.a.MRAppMaster, MSRA-SA-39.corp.com)
//     are variables, unless the last part is an upper-case constant
//     (android.intent.action.SCREEN_ON), which by convention names one
//     fixed thing. A class (no top-level domain at its end) is a shown
//     variable, as a numbered name is: the template shows it while it is
//     the only one seen there. All lower-case dotted names (mapred.task.id)
//     are often the property or package a message is about and stay free
//     words, unless they end in a top-level domain (ns.example.com): host
//     names.
//   - relative paths and component names: names joined by '/' of which
//     one has a dot (conf/app.yaml, com.example/.Main).
//   - the literals true, false and null are values, and so are the
//     account names root and admin (user names), also as a key's value.
//   - month and weekday names are time words, units are unit words: they
//     become variables only next to a variable (see tokenize).
//   - everything else is a constant word.
//
// Surrounding punctuation such as brackets, quotes and a trailing comma is
// ignored for the decision but kept in the pattern.
func classifyToken(b []byte, fl uint8, off rule) (kind uint8, vs, ve int32) {
	i, j := coreSpan(b)
	if i >= j {
		// An empty pair of brackets or quotes is an empty value: "()"
		// where another line has "(host.example.com)".
		if off&rEmptyValue == 0 && len(b) == 2 && isLeadPunct(b[0]) && isTrailPunct(b[1]) && b[0] != b[1] || len(b) == 2 && (b[0] == '"' || b[0] == '\'') && b[1] == b[0] {
			return kVar, 1, 1
		}
		return kConst, 0, int32(len(b))
	}
	core := b[i:j]
	// key=value
	if fl&(cEq|cDot|cColon) != 0 && isLetter(core[0]) {
		for k := 1; k < len(core); k++ {
			c := core[k]
			if c == ':' && off&rFieldColon == 0 && numberAt(core[k+1:]) && camelCase(core[:k]) {
				// fieldName:value, as code prints a field.
				return kKV, int32(i + k + 1), int32(j)
			}
			if c == '=' || c == ':' && k+1 < len(core) && core[k+1] == '=' {
				v := k + 1
				if c == ':' {
					v++
				}
				quoted := false
				for v < len(core) && isLeadPunct(core[v]) {
					// An opening quote or bracket stays: tag="<*>".
					quoted = quoted || core[v] == '"' || core[v] == '\''
					v++
				}
				if v >= len(core) || !quoted && plainWord(core[v:]) && (off&rUserName != 0 || !userName(core[v:])) {
					return kConst, int32(i), int32(j)
				}
				if fl&(cPart|cColon|cEq) != 0 && hasDigit(core[v:]) {
					// The value's own words stay: "bounds=Rect(<*>,",
					// "headroom=<memory:<*>,".
					a, z := varSpan(core[v:])
					return kKV, int32(i + v + a), int32(i + v + z)
				}
				return kKV, int32(i + v), int32(j)
			}
			if c == '.' && off&rDotLeader == 0 && k+1 < len(core) && core[k+1] == '.' {
				// A leader of dots: "depth.........0", a labelled value.
				v := k
				for v < len(core) && core[v] == '.' {
					v++
				}
				if v >= len(core) || plainWord(core[v:]) {
					return kConst, int32(i), int32(j)
				}
				return kKV, int32(i + v), int32(j)
			}
			if !isKeyByte(c) {
				break
			}
		}
	}
	// The punctuation cut off holds no digit, so the token's digit is
	// in the core.
	if fl&cColon != 0 && fl&cSlash != 0 && isPath(core) {
		if k := bytesIndex(core, "://"); k > 0 {
			if off&rWebURL == 0 && webScheme(core[:k]) {
				// A web address is one value: the scheme says only how it
				// is fetched ("Stopped web UI at <*>").
				return kVar, int32(i), pathEnd(b, j, off)
			}
			if off&rURLScheme == 0 {
				return kVar, int32(i + k + 3), pathEnd(b, j, off) // a URL keeps its scheme: hdfs://<*>
			}
		}
	}
	if fl&cDigit != 0 {
		if fl&cPart == 0 {
			// No '(': not a call (see callName).
		} else if n := callName(core); n > 0 && off&rCallName == 0 && !hasDigit(core[n:]) {
			return kConst, int32(i), int32(j) // a function: env.createBean2(), jk2_init()
		}
		if fl&cSlash != 0 && isPath(core) {
			return kVar, int32(i), pathEnd(b, j, off) // a path is one value: /logs/[1,2]/x
		}
		p := 0
		if !isDigit(core[0]) && off&rNamePrefix == 0 {
			p = namePrefix(core)
		}
		if p == 0 && off&rNumberedName == 0 && numberedName(core) {
			return kWeak, int32(i), int32(j)
		}
		a, z := p, len(core)
		if fl&(cPart|cColon|cEq) != 0 {
			a, z = varSpan(core)
		}
		if off&rMultiValue == 0 && fl&(cPart|cSlash) != 0 && multiValue(core[a:z]) && !isPath(core[a:z]) || fl&(cPart|cSlash) == 0 && isDigit(core[a]) && (dashApart(core[a:z]) || off&rUnderscore == 0 && numbersApart(core[a:z], '_')) {
			return kMulti, int32(i + a), int32(i + z)
		}
		return kVar, int32(i + a), int32(i + z)
	}
	if fl&(cSlash|cColon) != 0 && isPath(core) {
		return kVar, int32(i), pathEnd(b, j, off)
	}
	if fl&cColon != 0 && fl&cSlash != 0 && off&rPathField == 0 {
		if k := labelColon(core); k > 0 && isPath(core[k+1:]) {
			// A path after a label: "path:<*>", "Error Path:<*>".
			return kKV, int32(i + k + 1), pathEnd(b, j, off)
		}
	}
	if fl&cSlash != 0 && fl&cDot != 0 && off&rRelativePath == 0 && relativePath(core) {
		return kVar, int32(i), int32(j)
	}
	if fl&cDot != 0 && qualifiedName(core) && (off&rHostTLD == 0 || hasUpper(core)) {
		if hostName(core) || off&rClassShown != 0 {
			return kVar, int32(i), int32(j)
		}
		// A class or package: data for grouping, but shown while it is
		// the only one there (see numberedName), and two of them keep
		// their common part ("org.apache.hadoop.<*>", see generalise).
		return kWeak, int32(i), int32(j)
	}
	// The special words in one table probe; the sets do not overlap.
	w := wordKind(core)
	switch {
	case w == 0:
	case w&wLiteral != 0 && off&rLiteral == 0 && literalValue(core):
		return kVar, int32(i), int32(j)
	case w&wUser != 0 && off&rUserName == 0 && userName(core):
		return kVar, int32(i), int32(j)
	case w&wTime != 0 && off&rTimeWords == 0 && core[0] >= 'A' && core[0] <= 'Z':
		return kTimeWord, int32(i), int32(j)
	case w&wUnit != 0:
		return kUnitWord, int32(i), int32(j)
	}
	return kConst, int32(i), int32(j)
}

// classify is classifyToken with angle brackets glued to the value
// (rAngle): '<' and '>' are not punctuation that ends a word, so a value
// written right inside them, or right before a '>' that closes a
// description ("<NSXPCConnection: 0x7f9a>", "vCores:1>", "<12@host>"),
// takes them: the template has "<NSXPCConnection: <*>", as the Loghub
// benchmark's guidelines (Khan et al.) write a variable joined to word
// characters. Brackets that end words, ( [ { and their closers, stay.
func classify(b []byte, fl uint8, off rule) (kind uint8, vs, ve int32) {
	kind, vs, ve = classifyToken(b, fl, off)
	if angled(b, kind, vs, ve) {
		vs, ve = glueAngles(b, kind, vs, ve, off)
	}
	return kind, vs, ve
}

// angled reports a value of b that an angle bracket touches: the cheap
// test before glueAngles.
func angled(b []byte, kind uint8, vs, ve int32) bool {
	return kind != kConst && (int(ve) < len(b) && b[ve] == '>' || vs > 0 && b[vs-1] == '<')
}

// glueAngles is classify's rAngle: the span of the value vs:ve of b with
// the '<' right before it and the '>' right after it. A value in front
// of '<' only ("<12" of "<12 sec") takes it too.
func glueAngles(b []byte, kind uint8, vs, ve int32, off rule) (int32, int32) {
	if off&rAngle != 0 || kind != kVar && kind != kKV && kind != kWeak && kind != kMulti {
		return vs, ve
	}
	for int(ve) < len(b) && b[ve] == '>' {
		ve++
	}
	for vs > 0 && b[vs-1] == '<' {
		vs--
	}
	return vs, ve
}

// webScheme reports the schemes of the web (http, https, ftp, ws, wss):
// an address fetched that way is one value, where the scheme of a
// system's own protocol (hdfs://, spark://) names the kind of thing it
// addresses and stays in the template.
func webScheme(b []byte) bool {
	switch string(b) {
	case "http", "https", "ftp", "ws", "wss", "HTTP", "HTTPS":
		return true
	}
	return false
}

// pathEnd is the end of a path's value in b whose core ends at j: the
// full stops after it too (rPathDot). A path is cut at white space only
// (a file name may end in a dot), so "part-00296." is one value, and a
// sentence that ends with a path does not add a "." to its template.
func pathEnd(b []byte, j int, off rule) int32 {
	if off&rPathDot == 0 {
		for j < len(b) && b[j] == '.' {
			j++
		}
	}
	return int32(j)
}

// labelColon returns the index of the colon after a label that b starts
// with (letters, then ':'), or 0: "path:", "folder:".
func labelColon(b []byte) int {
	for k, c := range b {
		if c == ':' {
			return k
		}
		if !isLetter(c) {
			return 0
		}
	}
	return 0
}

// userName reports the well-known account names, root and admin, in
// lower or upper case: the user a message is about, which another line
// has as another user's name ("session opened for user <*>").
func userName(b []byte) bool {
	switch string(b) {
	case "root", "admin", "ROOT", "ADMIN":
		return true
	}
	return false
}

// numberedName reports a name with a short number in it, such as code and
// protocols write: eth0, ssh2, jk2_init(), utf8, x86, u0, L2. It is a word
// (letters, digits, '_' and '-', starting with a letter) with at most two
// digits, one run of them. Such a word is as often a fixed name as data
// (node12, CPU3): it is a variable for grouping, but its template shows
// the name as long as it is the only one seen there ("port <*> ssh2").
func numberedName(b []byte) bool {
	if !isLetter(b[0]) {
		return false
	}
	if b[len(b)-1] == '(' {
		b = b[:len(b)-1] // a call: jk2_init()
	}
	digits, runs := 0, 0
	for k, c := range b {
		switch {
		case isDigit(c):
			digits++
			if k == 0 || !isDigit(b[k-1]) {
				runs++
			}
			if digits > 2 || runs > 1 {
				return false
			}
		case isLetter(c) || c == '_' || c == '-':
		default:
			return false
		}
	}
	return digits <= 2 && runs == 1
}

// varSpan returns the span of the variable in a token core that holds a
// digit: from its first to its last part that is a value (has a digit, or
// is a qualified name), where parts are cut at ':', brackets, '|', ';',
// ',' and '='. The words around stay in the template as written:
// "batch:<*>", "<*>:Transmitted", "Rect(<*>", "[sweep.c:<*>]".
func varSpan(core []byte) (a, z int) {
	cut := false
	for _, c := range core {
		if partSep(c) {
			cut = true
			break
		}
	}
	if !cut {
		return namePrefix(core), len(core) // the separators were around it: "2,", "(12)"
	}
	a, z = -1, 0
	for s := 0; s < len(core); {
		e := s
		digit := false
		for e < len(core) && !partSep(core[e]) {
			digit = digit || isDigit(core[e])
			e++
		}
		if e > s && (digit || qualifiedName(core[s:e]) || hostPort(core[s:e], core[e:])) {
			if a < 0 {
				a = s + namePrefix(core[s:e])
			}
			z = e
		}
		s = e + 1
	}
	if a < 0 {
		return 0, len(core)
	}
	return a, z
}

// apart reports the punctuation that keeps two values apart inside one
// token ("<*>|<*>", "<*>##<*>", "<*>,<*>", "[<*>]=<*>"), and soft, '/' or
// '-' or none, in a token where it does (see softSep); dots, colons and
// underscores are inside one value (an address, a time, an id).
func apart(c, soft byte) bool {
	return byteClass[c]&(cPart|cEq) != 0 || c == soft && soft != 0
}

// softSep returns the separator that keeps the values of b apart besides
// those apart always reports: '/' between numbers ("8086/7110",
// "host-1/10.0.0.1:80", see slashApart), '-' between numbers alone (a
// date, a range: "2017-07-08", "2000-2002", see dashApart), or 0.
func softSep(b []byte) byte {
	switch {
	case slashApart(b):
		return '/'
	case dashApart(b):
		return '-'
	case numbersApart(b, '_'):
		return '_'
	}
	return 0
}

// dashApart reports numbers joined by single dashes and nothing else:
// "2017-07-08", "2000-2002". An id with letters (a UUID, R02-M1-N0) is one
// value.
func dashApart(b []byte) bool { return numbersApart(b, '-') }

// numbersApart reports numbers joined by single sep bytes and nothing
// else: with '-' a date or a range (see dashApart), with '_' numbers
// printed side by side ("30546174_3374851143", a session's two parts): as
// with every punctuation between values, the template keeps the
// separator between two variables ("<*>_<*>"). An id with letters
// (attempt_1445_0020_m_000000_0, blk_-1608) is one value.
func numbersApart(b []byte, sep byte) bool {
	if len(b) < 3 || !isDigit(b[0]) || !isDigit(b[len(b)-1]) {
		return false
	}
	dash := false
	for k, c := range b {
		switch {
		case isDigit(c):
		case c == sep && isDigit(b[k-1]):
			dash = true
		default:
			return false
		}
	}
	return dash
}

// slashApart reports whether '/' keeps values apart in b: when every
// part between slashes holds a digit ("8086/7110", "host-1/10.0.0.1:80",
// "2016/9/27"). A word between slashes makes b a path, which is one
// value ("{id}GLOBALROOT/Device/Volume2/config/SAM").
func slashApart(b []byte) bool {
	digit, slashes := false, 0
	for _, c := range b {
		switch {
		case c == '/':
			if !digit {
				return false
			}
			digit = false
			slashes++
		case isDigit(c):
			digit = true
		}
	}
	return slashes > 0 && digit
}

// multiValue reports whether the variable b (a token's value, from its
// first to its last value part) holds several values with punctuation or
// words between them, each of which is a variable of its own in the
// template: "<*>/<*>", "<*>##<*>##<*>", "<*>=sup,<*>=usr" (see valueMask).
// A path or URL is one value; classify never asks about them.
func multiValue(b []byte) bool {
	slash, dash := false, false
	for k := 1; k+1 < len(b); k++ {
		if byteClass[b[k]]&(cPart|cEq) != 0 {
			return true
		}
		slash = slash || b[k] == '/'
		dash = dash || b[k] == '-'
	}
	return slash && slashApart(b) || dash && dashApart(b) || numbersApart(b, '_')
}

// valueParts calls f for each part of b cut at apart bytes, with whether
// it is a value (has a digit, or is a qualified name), then for each
// separator with part == false and sep the byte.
func valueParts(b []byte, f func(part []byte, value bool, sep byte)) {
	soft := softSep(b)
	for s := 0; s <= len(b); {
		e := s
		digit := false
		for e < len(b) && !apart(b[e], soft) {
			digit = digit || isDigit(b[e])
			e++
		}
		if e > s {
			f(b[s:e], digit || qualifiedName(b[s:e]), 0)
		}
		if e < len(b) {
			f(nil, false, b[e])
		}
		s = e + 1
	}
}

// valueMask writes b, a multiValue variable, as its template text: each
// value part <*>, the words and punctuation between them as written.
func valueMask(b []byte) string {
	var sb strings.Builder
	valueParts(b, func(part []byte, value bool, sep byte) {
		switch {
		case sep != 0:
			sb.WriteByte(sep)
		case value:
			sb.WriteString(Wildcard)
		default:
			sb.Write(part)
		}
	})
	return sb.String()
}

// namePrefix returns the length of the name that a number in b is
// numbered by, with its separator, or 0: a word and '-', '.' or '#' before
// a number, digits and dots only ("node-<*>", "core.<*>", "CPU#<*>",
// "UTF-<*>", "jetty-<*>", and "#<*>" with no word; more after the number
// makes a host name: ip-10-0-0-1, cp-1.example.com), or a class name before '@' ("QueuePeer$Server@<*>", Java's
// default toString of an object). The name says what the number counts,
// and is the same in every message of the kind, so the template keeps it.
// A word of hex letters only (a UUID's first group) is not a name.
func namePrefix(b []byte) int {
	k, named := 0, false
	for k < len(b) && isLetter(b[k]) {
		named = named || !isHexLetter(b[k])
		k++
	}
	if k+1 < len(b) && isDigit(b[k+1]) && (b[k] == '#' || named && k >= 2 && (b[k] == '-' || b[k] == '.')) {
		for _, c := range b[k+1:] {
			if !isDigit(c) && c != '.' {
				return 0 // a host name (ip-10-0-0-1, cp-1.example.com)
			}
		}
		return k + 1
	}
	if k == 0 || bytes.IndexByte(b[k:], '@') < 0 {
		return 0
	}
	// Class@hash: a class name with a capital letter before '@'.
	at, upper := -1, false
	for m, c := range b {
		if c == '@' {
			at = m
			break
		}
		upper = upper || c >= 'A' && c <= 'Z'
		if !isLetter(c) && !isDigit(c) && c != '.' && c != '_' && c != '$' {
			return 0
		}
	}
	if at > 0 && upper && at+1 < len(b) && isHex(b[at+1]) {
		return at + 1
	}
	return 0
}

func isAlnum(c byte) bool { return isLetter(c) || isDigit(c) }

// isWordByte reports the bytes of an identifier: letters, digits, '_'.
func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

func isHexLetter(c byte) bool { return c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isHex(c byte) bool { return isDigit(c) || isHexLetter(c) }

// hostPort reports a name of three or more dotted parts followed by
// ":number": a host and its port (proxy.example.edu.hk:5070), where a
// file and its line (sweep.c:42) has fewer parts.
func hostPort(name, rest []byte) bool {
	if len(rest) < 2 || rest[0] != ':' || !isDigit(rest[1]) {
		return false
	}
	dots := 0
	for _, c := range name {
		if c == '.' {
			dots++
		}
	}
	return dots >= 2
}

// partSep reports the bytes that cut a token into parts for varSpan.
func partSep(c byte) bool { return byteClass[c]&(cPart|cColon|cEq) != 0 }

// bytesIndex is strings.Index for a byte slice, without converting it.
func bytesIndex(b []byte, s string) int {
	for k := 0; k+len(s) <= len(b); k++ {
		if string(b[k:k+len(s)]) == s {
			return k
		}
	}
	return -1
}

// coreSpan returns the span of b without the punctuation around it.
func coreSpan(b []byte) (i, j int) {
	i, j = 0, len(b)
	for i < j && isLeadPunct(b[i]) {
		i++
	}
	for j > i && isTrailPunct(b[j-1]) {
		j--
	}
	return i, j
}

// qualifiedName reports a name of three or more non-empty parts joined by
// single dots that starts with a letter, has a capital letter and does not
// end in an upper-case constant: "org.apache.hadoop.mapreduce.MRAppMaster".
// Such names are the host, class or property a message is about, so
// messages that differ only there are the same kind.
func qualifiedName(b []byte) bool {
	if !isLetter(b[0]) {
		return false
	}
	dots, last, upper := 0, 0, false
	for k, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c == '.':
			if k == last || k+1 == len(b) {
				return false
			}
			dots++
			last = k + 1
		case isLetter(c) || isDigit(c) || c == '_' || c == '-' || c == '$':
		default:
			return false
		}
	}
	if dots < 2 {
		return false
	}
	if upper {
		return !upperConstant(b[last:])
	}
	return topLevelDomain(b[last:])
}

// hostName reports a dotted name that ends in a top-level domain.
func hostName(b []byte) bool {
	k := len(b)
	for k > 0 && b[k-1] != '.' {
		k--
	}
	return topLevelDomain(b[k:])
}

// topLevelDomain reports the common top-level domains (and the suffixes
// of private networks: local, lan, internal), so that an all
// lower-case dotted name ending in one (ns.example.com, mail.example.co.uk)
// is taken for the host name it is, not for a property or package
// (mapred.task.id, com.apple.xpc), which ends in a word of its own.
func topLevelDomain(b []byte) bool {
	switch string(b) {
	case "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "io", "local", "lan", "internal",
		"uk", "de", "fr", "nl", "eu", "ru", "cn", "jp", "kr", "br", "au", "ca", "us", "it", "es", "ch", "se", "pl",
		"hk", "tw", "sg", "nz", "za", "mx", "ar", "cl", "be", "at", "dk", "fi", "no", "cz", "hu", "gr", "pt",
		"ie", "il", "tr", "ua", "ro", "vn", "th", "ph", "pk", "ir", "sk", "si", "hr", "bg", "lt", "lv", "ee",
		"ae", "sa", "eg", "ng", "ke", "tv", "cc":
		return true
	}
	return false
}

// upperConstant reports an upper-case identifier such as SCREEN_ON or GET:
// the way code writes enumerations and constants. It is an upperWord
// without a dash, which no identifier has.
func upperConstant(b []byte) bool {
	return upperWord(b) && bytes.IndexByte(b, '-') < 0
}

// literalValue reports the boolean and null literals, which are values a
// message prints, never its kind.
func literalValue(b []byte) bool {
	if len(b) < 3 || len(b) > 5 {
		return false
	}
	switch string(b) {
	case "true", "false", "null", "True", "False", "TRUE", "FALSE", "NULL", "nil", "None":
		return true
	}
	return false
}

// numberAt reports whether b starts with a digit or a minus and a digit.
func numberAt(b []byte) bool {
	if len(b) > 1 && b[0] == '-' {
		b = b[1:]
	}
	return len(b) > 0 && isDigit(b[0])
}

// camelCase reports an identifier in the camel case of code
// (removeNotification, state.clipTopAmount): a lower-case letter followed
// by an upper-case one, no digit and at most one dot. Host names, the
// other thing written before ":number", are not written that way, and a
// stack frame (a.b.Class.method:123) is a variable as a whole.
func camelCase(b []byte) bool {
	camel, dots := false, 0
	for k, c := range b {
		switch {
		case isDigit(c):
			return false
		case c == '.':
			if dots++; dots > 1 {
				return false
			}
		case c >= 'A' && c <= 'Z' && k > 0 && b[k-1] >= 'a' && b[k-1] <= 'z':
			camel = true
		case isLetter(c) || c == '_' || c == '.':
		default:
			return false
		}
	}
	return camel
}

// plainWord reports a value made only of letters, '-' and '_': a word, not
// an identifier or a number; or a file name, such a word with an
// extension of letters (sched.cpp, app.yaml).
func plainWord(b []byte) bool {
	dot := -1
	for k, c := range b {
		switch {
		case isLetter(c) || c == '-' || c == '_':
		case c == '.' && dot < 0 && k > 0 && k+1 < len(b):
			dot = k
		default:
			return false
		}
	}
	return dot < 0 || isLetter(b[dot+1])
}

// relativePath reports a relative file path or a component name: names
// joined by '/' of which one has a dot (config/app.yaml,
// com.example.app/.MainActivity). Words joined by '/' with no dot
// (tree/torus, TCP/IP, hi/lo, text/html) are the text of a message.
func relativePath(b []byte) bool {
	slash, dot := false, false
	for k, c := range b {
		switch {
		case c == '/':
			if k == 0 || k == len(b)-1 {
				return false
			}
			slash = true
		case c == '.':
			dot = dot || k+1 < len(b) && isLetter(b[k+1])
		case isWordByte(c) || c == '-' || c == '$':
		default:
			return false
		}
	}
	return slash && dot
}

// isPath reports file paths and URLs: "/usr/lib", "./x", "~/x", "C:\x",
// "http://...".
func isPath(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	if b[0] == '/' && b[1] != '/' || b[0] == '~' && b[1] == '/' || b[0] == '.' && (b[1] == '/' || len(b) > 2 && b[1] == '.' && b[2] == '/') {
		return true
	}
	if len(b) > 2 && isLetter(b[0]) && b[1] == ':' && b[2] == '\\' {
		return true
	}
	for k := 0; k+2 < len(b); k++ {
		if b[k] == ':' && b[k+1] == '/' && b[k+2] == '/' {
			return k > 0
		}
	}
	return false
}

// hasUpper reports an upper-case ASCII letter in b.
func hasUpper(b []byte) bool {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// callName returns the length of the function name b starts with, when b
// is a call or a declaration of one: an identifier (a letter, then
// letters, digits, '_', '$', dots between names) right before '('
// ("env.createBean2(", "jk2_init("); else 0. A function named with
// nothing in its brackets ("env.createBean2():") is code, not data: a
// digit in its name is part of the name. With a value in the brackets
// ("v4(10.0.0.1)") the name is as often the value's label, which may vary.
func callName(b []byte) int {
	if len(b) < 2 || !isLetter(b[0]) {
		return 0
	}
	for k := 1; k < len(b); k++ {
		switch c := b[k]; {
		case c == '(':
			return k
		case isWordByte(c) || c == '$':
		case c == '.' && isLetter(b[k-1]) && k+1 < len(b) && isLetter(b[k+1]):
		default:
			return 0
		}
	}
	return 0
}

// productToken reports a product and its version, as a server or client
// names itself (RFC 9110 product tokens): a name of letters, '-' and '_',
// a slash and a version that starts with a digit ("Apache/2.2.3",
// "nginx/1.18.0").
func productToken(b []byte) bool {
	k := 0
	for k < len(b) && (isLetter(b[k]) || b[k] == '-' || b[k] == '_') {
		k++
	}
	if k == 0 || k+1 >= len(b) || b[k] != '/' || !isDigit(b[k+1]) {
		return false
	}
	for _, c := range b[k+1:] {
		if !isAlnum(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// productComment returns the length of a product's comment that b starts
// with, one word in brackets ("(Fedora)", "(Ubuntu),": 8 for the first),
// or 0. The comment (the build, the platform) varies with the product:
// it is part of the value.
func productComment(b []byte) int {
	if len(b) < 3 || b[0] != '(' {
		return 0
	}
	for k := 1; k < len(b); k++ {
		switch c := b[k]; {
		case c == ')':
			if k == 1 {
				return 0
			}
			for _, t := range b[k+1:] {
				if !isTrailPunct(t) {
					return 0
				}
			}
			return k + 1
		case isAlnum(c) || c == '-' || c == '_' || c == '.':
		default:
			return 0
		}
	}
	return 0
}
