package patterns

import "bytes"

// This file finds the header of a log line when no header format is
// given: the timestamp, level, process and component fields that logging
// libraries put before the message. They would split the patterns (every
// line has another timestamp) or blur them (the component is part of the
// message in no template), so the miner mines the message only.

// headerFields bounds the fields looked at for a header, so a line of
// many short tokens costs no more than this.
const headerFields = 24

// StripHeader returns the message of a log line: the line without the
// header that a logging library put before it, or the whole line when it
// has none. It needs no format; the rule, applied left to right:
//
//  1. A header is a run of fields from the start of the line, each a
//     timestamp part (digits with separators: 2015-10-18, 18:01:47,978,
//     17/06/09, 2005.06.03, 20171223-22:15:29:606; a month or weekday
//     name), a level (INFO, warn, E, [notice]...), a bracketed field
//     ([main], [Sun Dec 04 04:47:44 2005], nested brackets too, adjacent
//     ones as one: [time][WARN ][logger  ]), a lone
//     separator (-, | or :), or an id: a token with a digit, an upper-case
//     word (node names, pids, RAS KERNEL). Ids only belong to the header
//     when a timestamp, level, bracket or separator follows them; a
//     bracketed field after the level only when a component or separator
//     follows it (so "[client 1.2.3.4]" after "[error]" stays message).
//     A header has one level: a level word after it is the message's.
//  2. A header needs the record's time or level: brackets, separators and
//     numbers alone at the start of a line are message ("[client 1.2.3.4]
//     File does not exist", "[instance: <*>] Creating image"). And it
//     needs two fields (lone separators and ids before the first time or
//     level aside), or one whole timestamp with a date and a time of day:
//     a message begins with a level word or a time of its own as well
//     ("error: Bind to port 22 failed", "10:46:47.425 : BTLE scanning
//     started", "host:443 error : reset"). See anchored.
//  3. After the header comes at most one component (none when an
//     upper-case column before the level was one: "RAS KERNEL INFO ciod:
//     ..." keeps "ciod:"): a field ending in ':'
//     (dfs.DataNode$PacketResponder:, sshd[24200]:, WindowManager:), also
//     after one host name (syslog: "Jun 14 15:16:01 combo sshd[1]:", and
//     a program of two or three fields with its pid in brackets or a
//     version: "Microsoft Word[123]:", "sandboxd[129] ([31211]):",
//     "syslogd 1.4.1:"); or a
//     program name before a lone "-" ("chrome.exe - "); or a dotted logger
//     name before a bracketed context ("nova.compute.manager [req-1 - -]");
//     or the caller, a source file and line (server/server.go:42);
//     or a word padded by two or more spaces, as in aligned columns
//     ("Info     CBS    Loaded...").
//  4. When the message left starts with a header again (a line wrapped by
//     another logger: "[17:51:42] 22/11/20 17:51:42 INFO mapreduce.Job:
//     ..."), that header goes too.
//
// A line in '|'-separated fields that starts with a timestamp
// (20171223-22:15:29:606|Step_LSC|30002312|msg) loses its fields up to the
// first one with a space in it. A Unix time (see unixTime) is a
// timestamp; a line in columns with one loses them up to it and its flags
// (see columnHeader).
//
// A structured record, a JSON object or logfmt pairs (time=... level=info
// msg="..."), after a header or not, has its message in a field: the
// message is the value of its msg, message or log field (in that order),
// without its header if it has one (a container's line inside a "log"
// field). The other fields (time, level, logger, context) are left out as
// a header is.
//
// The returned slice shares line's memory.
func StripHeader(line []byte) []byte {
	if m, ok := structuredMessage(line); ok {
		return stripHeader(m)
	}
	line = stripHeader(line)
	if m, ok := structuredMessage(line); ok {
		return stripHeader(m)
	}
	return line
}

// messageKeys are the fields that hold the message of a structured
// record, the first present one wins.
var messageKeys = [...]string{"msg", "message", "log"}

// structuredMessage returns the value of the message field of a JSON
// object ({"level":"info","msg":"started"}) or of logfmt pairs (a line
// that starts with key=value and has msg=... at a field's start), without
// its quotes and a trailing escaped newline.
func structuredMessage(line []byte) ([]byte, bool) {
	if len(line) < 4 {
		return nil, false
	}
	json := line[0] == '{'
	if !json && !startsWithPair(line) {
		return nil, false
	}
	for _, key := range messageKeys {
		for from := 0; from < len(line); {
			k := bytesIndex(line[from:], key)
			if k < 0 {
				break
			}
			k += from
			from = k + 1
			var v int
			if json {
				// "key" then white space, ':' and a quoted string.
				if k == 0 || line[k-1] != '"' || k+len(key) >= len(line) || line[k+len(key)] != '"' {
					continue
				}
				v = k + len(key) + 1
				for v < len(line) && isSpace(line[v]) {
					v++
				}
				if v >= len(line) || line[v] != ':' {
					continue
				}
				v++
				for v < len(line) && isSpace(line[v]) {
					v++
				}
				if v >= len(line) || line[v] != '"' {
					continue
				}
			} else {
				// key= at the start of a field.
				if k > 0 && !isSpace(line[k-1]) || k+len(key) >= len(line) || line[k+len(key)] != '=' {
					continue
				}
				v = k + len(key) + 1
				if v >= len(line) || line[v] != '"' {
					e := v
					for e < len(line) && !isSpace(line[e]) {
						e++
					}
					return line[v:e], true
				}
			}
			return quotedValue(line[v:]), true
		}
	}
	return nil, false
}

// startsWithPair reports a line that starts with key=value: an
// identifier, '=' and a value.
func startsWithPair(b []byte) bool {
	k := 0
	for k < len(b) && (isWordByte(b[k]) || b[k] == '.' || b[k] == '-') {
		k++
	}
	return k > 0 && isLetter(b[0]) && k+1 < len(b) && b[k] == '=' && !isSpace(b[k+1])
}

// quotedValue returns the string that b, which starts with a double
// quote, holds up to its closing quote (escaped quotes skipped), without
// a trailing escaped newline (\n, \r\n).
func quotedValue(b []byte) []byte {
	e := 1
	for e < len(b) && b[e] != '"' {
		if b[e] == '\\' {
			e++
		}
		e++
	}
	v := b[1:min(e, len(b))]
	for len(v) >= 2 && v[len(v)-2] == '\\' && (v[len(v)-1] == 'n' || v[len(v)-1] == 'r') {
		v = v[:len(v)-2]
	}
	return v
}

// stripHeader is StripHeader for a line that is not a structured record.
func stripHeader(line []byte) []byte {
	n, _ := headerEnd(line)
	line = trimSpaceLeft(line[n:])
	if n > 0 {
		// A second header must have a timestamp: a message may well
		// start with a level or bracket of its own ("error: ...").
		if n2, timed := headerEnd(line); timed {
			line = trimSpaceLeft(line[n2:])
		}
	}
	return line
}

func trimSpaceLeft(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// Field kinds of a header.
const (
	hNone  = iota // not a header field: the message starts here
	hTime         // timestamp part, month or weekday
	hLevel        // log level
	hSep          // lone separator
	hBrack        // [bracketed field]
	hID           // token with a digit, upper-case word: header only before an anchor
	hComp         // component: ends in ':'
)

// hfield is one field of a line: its span and kind.
type hfield struct {
	s, e int
	kind int
}

// nextField returns the field of line that starts at or after i: a
// bracketed group (with what sticks to its closing bracket) or a token.
// s == len(line) when there is none.
func nextField(line []byte, i int) (s, e int) {
	for i < len(line) && isSpace(line[i]) {
		i++
	}
	s = i
	if i < len(line) && line[i] == '[' {
		depth := 0
		for j := i; j < len(line) && j < i+256; j++ {
			switch line[j] {
			case '[':
				depth++
			case ']':
				depth--
				if depth == 0 && j+1 < len(line) && line[j+1] == '[' {
					continue // adjacent groups are one field: "[time][INFO ][logger   ]"
				}
				if depth == 0 {
					e = j + 1
					for e < len(line) && !isSpace(line[e]) {
						e++
					}
					return s, e
				}
			}
		}
	}
	e = i
	for e < len(line) && !isSpace(line[e]) {
		e++
	}
	return s, e
}

// headerEnd returns the length of the header of line (0 for none), and
// whether it has a timestamp with a time of day or a month name (a bare
// number is as often the message's own). A header found by headerSpan
// must also be evidence enough (see anchored): a message starts with a
// bracket, a separator, an id, a level word or a time as well.
func headerEnd(line []byte) (n int, timed bool) {
	if n := pipeHeader(line); n > 0 {
		return n, true
	}
	if n := columnHeader(line); n > 0 {
		return n, true // its own rule: a Unix time among few columns
	}
	n, timed = headerSpan(line)
	if n > 0 && !anchored(line[:n]) {
		return 0, false
	}
	return n, timed
}

// anchored reports whether the header h found by headerSpan is one: it
// needs the record's time or level, brackets and separators alone are as
// often the message's own ("[client 10.0.0.1] File does not exist",
// "[instance: <*>] Creating image"). And one such field alone is not
// enough either, as messages begin with a level word ("error: Bind to
// port 22 failed", "Warning: ...") or a time ("10:46:47.425 : BTLE
// scanning started") of their own: a header is at least two fields, not
// counting lone separators nor the ids before its first time or level
// (a message's "host:443 error : ..."); unless its one field is a whole
// timestamp with a date and a time of day ("2026-12-07T03:51:24Z",
// "[10.30 16:49:06]").
func anchored(h []byte) bool {
	fields, evidence, whole := 0, false, false
	for i := 0; ; {
		s, e := nextField(h, i)
		if s >= len(h) {
			break
		}
		i = e
		f := h[s:e]
		kind := headerKind(f, false)
		if kind == hSep {
			continue
		}
		timed, level := false, false
		switch {
		case kind == hTime:
			timed = true
			whole = whole || dateTime(trimPunct(f))
		case kind == hLevel:
			level = true
		case f[0] == '[':
			timed, whole = bracketTime(f)
			level = isLevel(trimPunct(f))
		}
		if timed || level {
			evidence = true
		}
		if evidence {
			fields++
		}
	}
	return evidence && (fields >= 2 || whole)
}

// dateTime reports a timestamp in one token with a date and a time of day:
// a timePart with a date separator ('-', '/') before a ':'
// ("2015-10-18T18:01:47.978Z", "2016/09/28-04:30:30").
func dateTime(b []byte) bool {
	if !timePart(b) {
		return false
	}
	c := bytes.IndexByte(b, ':')
	return c > 0 && bytes.IndexAny(b[:c], "-/") > 0
}

// bracketTime reports a bracketed field that holds a time of day or a
// month name (timed), and one that holds a whole timestamp: a time of day
// and a date ("[Sun Dec 04 04:47:44 2005]", "[10.30 16:49:06]").
func bracketTime(f []byte) (timed, whole bool) {
	clock, date := false, false
	for _, w := range bytes.FieldsFunc(f, func(r rune) bool { return r == ' ' || r == '[' || r == ']' }) {
		switch {
		case dateTime(w):
			clock, date = true, true
		case timePart(w) && bytes.IndexByte(w, ':') > 0:
			clock = true
		case timePart(w) || wordKind(w)&wTime != 0 && w[0] >= 'A' && w[0] <= 'Z':
			date = true
		}
	}
	return clock, clock && date
}

// headerSpan is headerEnd for a line that has no '|'-separated or
// column header, before the check that the header is one.
func headerSpan(line []byte) (n int, timed bool) {
	var fs [headerFields]hfield
	nf := 0
	for i := 0; nf < headerFields; nf++ {
		s, e := nextField(line, i)
		if s >= len(line) {
			break
		}
		fs[nf] = hfield{s: s, e: e}
		i = e
	}
	end, anchor, level, syslog := 0, false, false, false
	named := false // a component column before the level: "RAS KERNEL INFO"
	defer func() { timed = timed && n > 0 }()
	k := 0
	for ; k < nf; k++ {
		f := line[fs[k].s:fs[k].e]
		kind := headerKind(f, k > 0 && (fs[k-1].kind == hTime || fs[k-1].kind == hID))
		if kind == hNone && anchor && (isDash(line, fs, k+1) || k+1 < nf && headerKind(line[fs[k+1].s:fs[k+1].e], false) == hID && isDash(line, fs, k+2)) {
			// A name before " - ": "[10.30 16:49:06] chrome.exe *64 - ",
			// "2020-01-01 10:00:00 - app - INFO - msg".
			kind = hID
		}
		if level && kind == hTime {
			kind = hID // numbers after the level are the message's
		}
		if level && kind == hLevel {
			kind = hNone // a header has one level: "INFO critical input interrupt"
		}
		if named && level && kind == hComp {
			kind = hNone // one component: "KERNEL INFO ciod: ..." keeps "ciod:"
		}
		if !level && kind == hID && upperWord(f) && !hasDigit(f) {
			named = true
		}
		fs[k].kind = kind
		if kind == hNone {
			break
		}
		if kind == hSep && anchor && (level || !levelAhead(line, fs[:nf], k+1)) {
			// " - " after the level, or after a name with no level to
			// come, ends the header.
			return fs[k].e, timed
		}
		if level && kind == hID && fs[k].e+1 < len(line) && isSpace(line[fs[k].e]) && isSpace(line[fs[k].e+1]) {
			return fs[k].e, timed // a padded column after the level: "Info     CBS    Loaded"
		}
		if kind == hComp {
			if !anchor {
				break
			}
			return fs[k].e, timed
		}
		switch kind {
		case hTime, hSep:
			anchor, end = true, fs[k].e
			syslog = syslog || kind == hTime && isLetter(f[0])
			timed = timed || kind == hTime && (isLetter(f[0]) || hasByte(f, ':'))
		case hLevel:
			anchor, level, end = true, true, fs[k].e
		case hBrack:
			if isLevel(trimPunct(f)) {
				anchor, level, end = true, true, fs[k].e
			} else if !level {
				anchor, end = true, fs[k].e
			}
			// After the level, a bracketed field is a thread or context
			// only when a component or separator follows (below).
		}
	}
	if !anchor {
		return 0, false
	}
	// The fields right after the header: a component in one of its forms.
	j := 0
	for j < nf && fs[j].e <= end {
		j++
	}
	if j >= nf {
		return end, timed
	}
	f := line[fs[j].s:fs[j].e]
	switch {
	case headerKind(f, false) == hComp && !(named && level):
		// "[main] org.a.B:", "INFO dfs.FSNamesystem:".
		return fs[j].e, timed
	case sourceLocation(f):
		// The caller: "INFO server/server.go:42 listening".
		return fs[j].e, timed
	case j+1 < nf && !level && string(line[fs[j+1].s:fs[j+1].e]) == "-" && !hasByte(f, ':'):
		// "chrome.exe - ".
		return fs[j+1].e, timed
	case j+1 < nf && syslog && !hasByte(f, ':') && headerKind(line[fs[j+1].s:fs[j+1].e], false) == hComp:
		// syslog: a host, then the program.
		return fs[j+1].e, timed
	case syslog && !hasByte(f, ':'):
		// syslog: a host, then a program of a few fields with its pid
		// ("Microsoft Word[123]:", "sandboxd[129] ([31211]):", "syslogd 1.4.1:").
		if e := programWithPID(line, fs[j+1:nf]); e > 0 {
			return e, timed
		}
	case j+1 < nf && level && dottedName(f) && headerKind(line[fs[j+1].s:fs[j+1].e], false) == hBrack:
		return fs[j+1].e, timed // "nova.compute.manager [req-1 - - -]"
	}
	return end, timed
}

// programWithPID returns the end of a program name of two or three
// fields that holds a pid in brackets or a version and ends in ':'
// ("Microsoft Word[123]:", "BezelServices 255.10[94]:", "sandboxd[129]
// ([31211]):", "syslogd 1.4.1:"), or 0.
func programWithPID(line []byte, fs []hfield) int {
	pid := false
	for k := 0; k < len(fs) && k < 3; k++ {
		f := line[fs[k].s:fs[k].e]
		pid = pid || bracketedNumber(f) || k > 0 && version(f)
		if f[len(f)-1] == ':' {
			if k > 0 && pid {
				return fs[k].e
			}
			return 0
		}
	}
	return 0
}

// version reports a version number, maybe with a colon after it: digits
// and dots with at least one dot ("1.4.1:").
func version(f []byte) bool {
	if f[len(f)-1] == ':' {
		f = f[:len(f)-1]
	}
	dots := 0
	for k, c := range f {
		switch {
		case isDigit(c):
		case c == '.' && k > 0 && k+1 < len(f) && isDigit(f[k-1]):
			dots++
		default:
			return false
		}
	}
	return dots > 0
}

// bracketedNumber reports a field with a number in square brackets:
// "sshd[24200]:", "([31211]):".
func bracketedNumber(f []byte) bool {
	for k := 0; k+2 < len(f); k++ {
		if f[k] == '[' && isDigit(f[k+1]) {
			m := k + 1
			for m < len(f) && isDigit(f[m]) {
				m++
			}
			return m < len(f) && f[m] == ']'
		}
	}
	return false
}

// sourceLocation reports a source file and line: a file name with an
// extension of letters, ':' and a line number, after a path or not
// ("server/server.go:42", "App.java:123").
func sourceLocation(f []byte) bool {
	c := len(f)
	for c > 0 && isDigit(f[c-1]) {
		c--
	}
	if c == len(f) || c < 4 || f[c-1] != ':' {
		return false
	}
	name := f[:c-1]
	d := len(name)
	for d > 0 && isLetter(name[d-1]) {
		d--
	}
	if d == len(name) || len(name)-d > 5 || d < 2 || name[d-1] != '.' {
		return false
	}
	for _, x := range name[:d-1] {
		if !isWordByte(x) && x != '/' && x != '-' && x != '.' {
			return false
		}
	}
	return true
}

// isDash reports whether field k of fs is a lone "-".
func isDash(line []byte, fs [headerFields]hfield, k int) bool {
	return k < len(fs) && fs[k].e == fs[k].s+1 && line[fs[k].s] == '-'
}

// levelAhead reports a level within the next three fields from k, the
// fields between being names or separators: "- app - INFO - msg"; a
// field with a colon (host:port) is no name.
func levelAhead(line []byte, fs []hfield, k int) bool {
	for p := k; p < len(fs) && p < k+3; p++ {
		f := line[fs[p].s:fs[p].e]
		if hasByte(f, ':') && len(f) > 1 {
			return false // an address or a message's words, no logger name
		}
		switch headerKind(f, false) {
		case hLevel:
			return true
		case hBrack, hComp:
			return false
		}
	}
	return false
}

// headerKind classifies one field of a possible header. afterField says
// the field before was a timestamp part or id, after which a single
// letter is a level (Android's "1702 2395 D WindowManager:").
func headerKind(f []byte, afterField bool) int {
	if len(f) == 0 {
		return hNone
	}
	if f[0] == '[' {
		if f[len(f)-1] == ']' {
			return hBrack
		}
		if f[len(f)-1] == ':' && f[len(f)-2] == ']' {
			return hComp
		}
	}
	if len(f) == 1 && (f[0] == '-' || f[0] == '|' || f[0] == ':') {
		return hSep
	}
	last := f[len(f)-1]
	if last == ':' && len(f) > 1 && f[len(f)-2] != ':' && !bytesContain(f, "://") || last == ']' && hasByte(f, ':') && !hasByte(f, '[') {
		// A component ("dfs.FSNamesystem:", "sshd[24200]:") or the end of
		// a glog prefix ("main.go:42]").
		core := f[:len(f)-1]
		if lv := trimPunct(core); isLevel(lv) {
			return hLevel // "ERROR:"
		}
		if hasLetter(core) && len(core) <= 96 {
			return hComp
		}
	}
	c := trimPunct(f)
	if len(c) == 0 {
		return hNone
	}
	if isLevel(c) || afterField && len(c) == 1 && hasByte([]byte("VDIWEFA"), c[0]) {
		return hLevel
	}
	if timePart(c) || unixTime(c) {
		return hTime
	}
	if len(c) == 5 && hasByte([]byte("IWEF"), c[0]) && allDigits(c[1:]) {
		return hTime // glog: I0512 is level and date
	}
	if wordKind(c)&wTime != 0 && c[0] >= 'A' && c[0] <= 'Z' {
		return hTime
	}
	if hasDigit(c) || upperWord(c) {
		return hID
	}
	return hNone
}

// columnHeader returns the length of the header of a line in columns
// that has its time as a Unix time: a record number, an id with a digit
// (a node, a host), at most three name fields (component, state), the
// Unix time, and the small numbers right after it (flags, severities):
// "134681 node-246 unix.hw state_change.unavailable 1077804742 1 msg".
// Without the time such a start is as often the message's own.
func columnHeader(line []byte) int {
	var fs [9][2]int
	nf := 0
	for i := 0; nf < len(fs); nf++ {
		s, e := nextField(line, i)
		if s >= len(line) {
			break
		}
		fs[nf] = [2]int{s, e}
		i = e
	}
	if nf < 3 || !allDigits(line[fs[0][0]:fs[0][1]]) || !hasDigit(line[fs[1][0]:fs[1][1]]) {
		return 0
	}
	for k := 2; k < nf; k++ {
		f := line[fs[k][0]:fs[k][1]]
		if unixTime(f) {
			end := fs[k][1]
			for k++; k < nf && smallNumber(line[fs[k][0]:fs[k][1]]); k++ {
				end = fs[k][1]
			}
			return end
		}
		if k > 4 || !nameField(f) {
			return 0
		}
	}
	return 0
}

// unixTime reports a Unix time in seconds (ten digits from 1000000000,
// 2001, to 1999999999, 2033), with a fraction or not, or in
// milliseconds (thirteen digits): the timestamp of machine-written
// records.
func unixTime(b []byte) bool {
	n := 0
	for n < len(b) && isDigit(b[n]) {
		n++
	}
	if n < len(b) {
		if n != 10 || b[n] != '.' || !allDigits(b[n+1:]) {
			return false
		}
	}
	return (n == 10 || n == 13) && b[0] == '1'
}

// smallNumber reports a number of at most three digits, signed or not.
func smallNumber(b []byte) bool {
	if len(b) > 1 && b[0] == '-' {
		b = b[1:]
	}
	return len(b) <= 3 && allDigits(b)
}

// nameField reports a field made of letters, digits, '.', '_' and '-'
// with a letter: a component or state name in a column.
func nameField(b []byte) bool {
	for _, c := range b {
		if !isLetter(c) && !isDigit(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return hasLetter(b)
}

// pipeHeader returns the length of a '|'-separated header that starts
// with a timestamp: the fields up to the first one with a space.
func pipeHeader(line []byte) int {
	end := 0
	for k := 0; k < 8; k++ {
		i := end
		j := i
		for j < len(line) && line[j] != '|' && !isSpace(line[j]) {
			j++
		}
		if j >= len(line) || line[j] != '|' || j == i {
			break
		}
		if k == 0 && !timePart(line[i:j]) {
			return 0
		}
		end = j + 1
	}
	return end
}

// timePart reports a timestamp or one of its parts: digits with the
// separators of dates and times between them; a bare number is an id
// (a pid, a count, or a compact date such as 081109 that a level or
// timestamp after it shows to be header).
func timePart(b []byte) bool {
	if ipAddress(b) {
		return false
	}
	seps, run := 0, 0
	dateSep, year := false, false
	for k, c := range b {
		switch {
		case isDigit(c):
			run++
			if run == 4 && (k+1 == len(b) || !isDigit(b[k+1])) {
				year = true
			}
			continue
		case c == '-' || c == '/' || c == ':' || c == '.' || c == ',' || c == '_' || c == '+':
			if k == 0 || !isDigit(b[k-1]) {
				return false
			}
			seps++
			dateSep = dateSep || c == '-' || c == '/' || c == ':'
		case (c == 'T' || c == 'Z') && k > 0 && isDigit(b[k-1]):
			seps++
			dateSep = true
		default:
			return false
		}
		run = 0
	}
	if seps == 0 {
		return false // a bare number: an id, a compact date, an epoch
	}
	// Only dots and commas between digits: a date only with a year
	// (2005.06.03), not a duration or a list (0.25, 10.1,10.2).
	if !dateSep {
		return year
	}
	return true
}

// ipAddress reports an IPv4 address, with a port or not: four groups of
// one to three digits, which timePart would take for a time.
func ipAddress(b []byte) bool {
	groups, n := 0, 0
	for _, c := range b {
		switch {
		case isDigit(c):
			n++
			if n > 3 {
				return false
			}
		case c == '.' || c == ':':
			if n == 0 {
				return false
			}
			groups++
			n = 0
			if c == ':' {
				return groups == 4
			}
		default:
			return false
		}
	}
	return groups == 3 && n > 0
}

// isLevel reports a log level word in any case.
func isLevel(b []byte) bool {
	if len(b) < 3 || len(b) > 8 {
		return false
	}
	var l [8]byte
	for k, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		l[k] = c
	}
	switch string(l[:len(b)]) {
	case "trace", "debug", "info", "notice", "warn", "warning", "error", "err", "fatal",
		"critical", "crit", "alert", "emerg", "severe", "verbose", "fine", "finer", "finest", "dbg", "inf", "wrn", "eror":
		return true
	}
	return false
}

// trimPunct strips the punctuation around a field: brackets, quotes,
// commas, colons.
func trimPunct(b []byte) []byte {
	i, j := coreSpan(b)
	return b[i:j]
}

// dottedName reports a logger name: identifier parts joined by dots,
// at least two parts (nova.compute.manager, org.a.B).
func dottedName(b []byte) bool {
	dots := 0
	for k, c := range b {
		switch {
		case c == '.':
			if k == 0 || k == len(b)-1 || b[k-1] == '.' {
				return false
			}
			dots++
		case isLetter(c) || isDigit(c) || c == '_' || c == '$' || c == '-':
		default:
			return false
		}
	}
	return dots > 0 && isLetter(b[0])
}

// upperWord reports an upper-case word of two or more letters (RAS,
// KERNEL, CBS): the way headers write fixed fields.
func upperWord(b []byte) bool {
	letters := 0
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			letters++
		case isDigit(c) || c == '_' || c == '-':
		default:
			return false
		}
	}
	return letters >= 2
}

func bytesContain(b []byte, s string) bool {
	for k := 0; k+len(s) <= len(b); k++ {
		if string(b[k:k+len(s)]) == s {
			return true
		}
	}
	return false
}

func hasByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func hasDigit(b []byte) bool {
	for _, c := range b {
		if isDigit(c) {
			return true
		}
	}
	return false
}

func hasLetter(b []byte) bool {
	for _, c := range b {
		if isLetter(c) {
			return true
		}
	}
	return false
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}
