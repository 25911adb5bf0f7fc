package patterns

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ID identifies a pattern. It is the 64-bit FNV-1a hash of the pattern's
// template text, so any miner that arrives at the same template (speed and
// batch, two partitions, yesterday and today) gives it the same ID without
// talking to the others.
type ID uint64

// String writes the ID as 16 hex digits, the form used in JSON and MongoDB.
func (id ID) String() string {
	s := strconv.FormatUint(uint64(id), 16)
	return strings.Repeat("0", 16-len(s)) + s
}

// TemplateID is the ID of a template text.
func TemplateID(template string) ID {
	h := uint64(fnvOffset)
	for k := 0; k < len(template); k++ {
		h ^= uint64(template[k])
		h *= fnvPrime
	}
	return ID(h)
}

// MinerVersion names the mining rules: raise it when the same lines
// would mine to other patterns (a new tokenizer, header rule or merge
// rule), so the views' contract (collections.Contract) tells views mined
// before from views mined after.
const MinerVersion = 3

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Pattern is one kind of message: its template (variables written as <*>),
// how many messages it holds and the first of them.
type Pattern struct {
	ID       ID
	Template string
	Count    uint64
	Example  string
}

// Options are the miner's settings. The zero value of a field means its
// default; the defaults need no tuning per log source.
type Options struct {
	// MaxPatterns caps the patterns kept (default 10000). When a new pattern
	// would exceed it, the tenth of the patterns with the fewest messages
	// (ties: seen least recently) is evicted, so a burst of unique junk
	// cannot grow the miner without bound while the common patterns stay.
	MaxPatterns int
	// MaxExample caps the bytes kept of a pattern's example message
	// (default 512).
	MaxExample int
	// off turns rules off, for the tests' leave-one-system-out score
	// (see rule).
	off rule
}

const (
	defaultMaxPatterns = 10000
	defaultMaxExample  = 512
	// keysPerPattern bounds the key cache: see Miner.keys.
	keysPerPattern = 16
)

func (o Options) withDefaults() Options {
	if o.MaxPatterns <= 0 {
		o.MaxPatterns = defaultMaxPatterns
	}
	if o.MaxExample <= 0 {
		o.MaxExample = defaultMaxExample
	}
	return o
}

// unit is one position of a template.
type unit struct {
	kind uint8 // uConst, uVar or uKV
	// text is the constant, or the display form of key=<*>, or of a
	// variable with the punctuation around it ("(<*>)", "<*>],"); it is
	// empty for a bare variable.
	text string
	// lit is what the template shows for a variable that has only ever
	// held one numbered name (see numberedName): that token as written;
	// or one unit after its number: "<*> ms".
	lit string
}

// cluster is a pattern while it is being mined.
type cluster struct {
	units   []unit
	id      ID
	count   uint64
	last    uint64 // tick of the last message, for eviction
	example string
	live    bool
	bucket  bucketKey
}

// bucketKey groups the patterns a new message can join: those with the
// same number of units. (The first word used to be part of it, as the
// subject or verb of a message; but a component prefix such as
// "com.apple.xpc.launchd:" is as often data, and a first word that names
// another kind of message is kept apart by the word rules anyway.)
type bucketKey struct {
	n int
}

// Miner infers patterns from a stream of messages, one at a time.
//
// A message is cut into tokens, variables are recognised by their form
// (see classify) and runs of variables collapse to one <*>, which gives a
// key. Messages with the same key are the same pattern; a message with a
// new key joins the most similar pattern with the same length if they
// differ only in a few free words (a user or host name), and
// that pattern's differing positions become <*>; else it starts a pattern.
// A place where only plain words differ becomes <*> once it has shown
// wordValues different words (two may be an enumeration), and a pattern
// that becomes more general absorbs the patterns it now covers.
//
// The result depends only on the messages and their order, never on
// timing or map order. A Miner is not safe for concurrent use; run one per
// partition and Merge them.
type Miner struct {
	opt      Options
	clusters []cluster
	free     []int32
	live     int
	// keys caches key hash -> cluster for the fast path. It is only a
	// cache: every key it holds is covered by its cluster's template, so
	// when it grows past keysPerPattern*MaxPatterns it is dropped and
	// refilled from the templates.
	keys    map[uint64]int32
	byID    map[ID]int32
	buckets map[bucketKey][]int32
	tick    uint64
	evicted uint64
	sc      scratch
	lu      []unit
	// track turns on moves, the log of every pattern id that stopped
	// being live and where its messages went, which a Tracker reads and
	// clears around each Add (see Tracker).
	track bool
	moves []move
}

// move is one entry of the miner's move log: the messages of pattern from
// now belong to pattern to (its id at that moment: a later move may carry
// it on), or were dropped by the MaxPatterns cap (evicted).
type move struct {
	from, to ID
	evicted  bool
}

// NewMiner returns an empty miner.
func NewMiner(opt Options) *Miner {
	m := &Miner{opt: opt.withDefaults()}
	m.sc.off = opt.off
	m.reset()
	return m
}

func (m *Miner) reset() {
	m.clusters = m.clusters[:0]
	m.free = m.free[:0]
	m.live = 0
	m.keys = make(map[uint64]int32)
	m.byID = make(map[ID]int32)
	m.buckets = make(map[bucketKey][]int32)
}

// Len is the number of patterns held.
func (m *Miner) Len() int { return m.live }

// Evicted is the number of patterns dropped by the MaxPatterns cap.
func (m *Miner) Evicted() uint64 { return m.evicted }

// Add mines one message and returns the ID its pattern has now (a later
// message may generalise the pattern and so change its ID; Match gives the
// final one).
func (m *Miner) Add(msg []byte) ID {
	m.tick++
	h := m.sc.shapeKey(msg)
	if ci, ok := m.keys[h]; ok {
		c := &m.clusters[ci]
		c.count++
		c.last = m.tick
		return c.id
	}
	lu := m.lineUnits(msg)
	ci := m.place(lu, 1, msg)
	m.cacheKey(h, ci)
	return m.clusters[ci].id
}

// AddString is Add for a string message.
func (m *Miner) AddString(msg string) ID { return m.Add([]byte(msg)) }

// Match returns the pattern msg belongs to, without changing the miner.
// ok is false when no pattern holds it (it was never added, or its
// pattern was evicted); the Pattern is then the message's own template
// with a zero Count.
func (m *Miner) Match(msg []byte) (p Pattern, ok bool) {
	h := m.sc.shapeKey(msg)
	if ci, hit := m.keys[h]; hit {
		return m.clusters[ci].pattern(), true
	}
	lu := m.lineUnits(msg)
	if ci, _, found := m.best(lu); found {
		return m.clusters[ci].pattern(), true
	}
	t := templateText(lu)
	return Pattern{ID: TemplateID(t), Template: t, Example: string(msg)}, false
}

func (m *Miner) cacheKey(h uint64, ci int32) {
	if len(m.keys) >= keysPerPattern*m.opt.MaxPatterns {
		clear(m.keys)
	}
	m.keys[h] = ci
}

// lineUnits returns the units of msg as strings: the slow path, for a
// message whose key is not cached.
func (m *Miner) lineUnits(msg []byte) []unit {
	m.sc.tokenize(msg)
	lu := make([]unit, len(m.sc.units))
	for i, t := range m.sc.units {
		switch t.kind {
		case kConst:
			lu[i] = unit{kind: uConst, text: string(msg[t.s:t.e])}
		case kVar:
			mid := Wildcard
			if t.multi {
				mid = valueMask(msg[t.vs:t.ve])
			}
			if t.vs == t.s && t.ve == t.e && !t.multi {
				lu[i] = unit{kind: uVar}
			} else {
				lu[i] = unit{kind: uVar, text: string(msg[t.s:t.vs]) + mid + string(msg[t.ve:t.e])}
			}
			if t.flags&fWeak != 0 {
				lu[i].lit = string(msg[t.s:t.e])
			}
			if t.flags&fUnit != 0 && m.sc.off&rUnitShown == 0 {
				if t.ue != 0 {
					// "<*> bytes" for "18846 bytes (18.4 KB)": the restated
					// quantity is the same value.
					lu[i].lit = string(msg[t.s:t.vs]) + Wildcard + string(msg[t.us:t.ue]) + string(msg[t.ve:t.e])
				} else {
					lu[i].lit = string(msg[t.s:t.vs]) + Wildcard + string(msg[t.us:t.e])
				}
			}
		case kKV:
			lu[i] = unit{kind: uKV, text: string(msg[t.s:t.vs]) + Wildcard + string(msg[t.ve:t.e])}
		}
	}
	return lu
}

// place adds count messages with units lu to the best pattern, or to a new
// one, and returns its index.
func (m *Miner) place(lu []unit, count uint64, example []byte) int32 {
	ci, mis, found := m.best(lu)
	if !found {
		return m.create(lu, count, example)
	}
	if mis > 0 && wordsOnly(m.clusters[ci].units, lu) {
		return m.placeWord(ci, lu, count, example)
	}
	c := &m.clusters[ci]
	c.count += count
	c.last = m.tick
	if mis > 0 || !coversAll(c.units, lu) {
		var dims uint8 // of the units no longer shown
		for i := range c.units {
			g := generalise(c.units[i], lu[i])
			if unitShown(c.units[i]) && !unitShown(g) {
				dims |= unitDimension(c.units[i].lit)
			}
			c.units[i] = g
		}
		if dims != 0 && m.opt.off&rUnitSiblings == 0 {
			hideUnits(c.units, dims)
		}
		ci = m.rekey(ci)
		m.absorbCovered(ci)
	}
	return ci
}

// wordValues is how many different words a position must have shown before
// it becomes a variable. Two are as likely an enumeration as data
// ("stored as bytes" and "stored as values", "view acls" and "modify acls",
// "Failed password" and "Failed none"): different events that code writes
// with one word changed. A third different word in the same place is
// data: a user, a host, a file.
const wordValues = 3

// wordsOnly reports whether every position where template t and units u
// differ holds a constant word in both: no recognised variable on either
// side that would settle the question at once.
func wordsOnly(t, u []unit) bool {
	for i := range t {
		if t[i] != u[i] && (t[i].kind != uConst || u[i].kind != uConst) && !bothVars(t[i], u[i]) {
			return false
		}
	}
	return true
}

// placeWord places lu, which differs from pattern ci only in constant
// words, in a family: the patterns of the bucket equal to ci except at
// those positions, where they hold constants too. Until the family,
// with lu, shows wordValues different words there, lu is its own pattern;
// then the whole family becomes one pattern with <*> at those positions.
func (m *Miner) placeWord(ci int32, lu []unit, count uint64, example []byte) int32 {
	t := m.clusters[ci].units
	diff := make([]bool, len(t))
	for i := range t {
		diff[i] = t[i] != lu[i] && !bothVars(t[i], lu[i])
	}
	family := []int32{}
	values := map[string]bool{valuesAt(lu, diff): true}
	for _, j := range m.buckets[m.clusters[ci].bucket] {
		u := m.clusters[j].units
		if sameOutside(t, u, diff) {
			family = append(family, j)
			values[valuesAt(u, diff)] = true
		}
	}
	need := wordValues
	if m.opt.off&rWordValues != 0 {
		need = 2
	}
	if len(values) < need {
		if ci, ok := m.byID[TemplateID(templateText(lu))]; ok {
			c := &m.clusters[ci]
			c.count += count
			c.last = m.tick
			return ci
		}
		return m.create(lu, count, example)
	}
	keep := slices.Min(family)
	c := &m.clusters[keep]
	c.count += count
	c.last = m.tick
	// Each marked position becomes the variable that covers all the
	// words there, keeping the key and punctuation they share
	// ("user=<*>", "<*>,"). So does each variable the members show
	// differently (a numbered name, george6 and lena11): the family
	// becomes one pattern that covers every message it holds.
	gen := slices.Clone(lu)
	var dims uint8 // of the units no longer shown
	for _, j := range family {
		u := m.clusters[j].units
		for i := range u {
			g := generalise(gen[i], u[i])
			if unitShown(gen[i]) && !unitShown(g) {
				dims |= unitDimension(gen[i].lit)
			}
			gen[i] = g
		}
	}
	if dims != 0 && m.opt.off&rUnitSiblings == 0 {
		hideUnits(gen, dims)
	}
	for _, j := range family {
		copy(m.clusters[j].units, gen)
	}
	// Rekey the survivor first: each other member then finds its template
	// taken and is absorbed into it. The message was counted in keep, so
	// keep follows that count: into whichever cluster absorbs it.
	keep = m.rekey(keep)
	id := m.clusters[keep].id
	for _, j := range family {
		if j != keep && m.clusters[j].live {
			if s := m.rekey(j); m.clusters[s].id == id {
				keep = s
			}
		}
	}
	m.absorbCovered(keep)
	return keep
}

// sameOutside reports whether u equals t at every position not marked in
// diff and holds constants at the marked ones.
func sameOutside(t, u []unit, diff []bool) bool {
	for i := range t {
		if diff[i] {
			if u[i].kind != uConst {
				return false
			}
		} else if t[i] != u[i] && !bothVars(t[i], u[i]) {
			return false
		}
	}
	return true
}

// valuesAt joins the words of u at the marked positions.
func valuesAt(u []unit, diff []bool) string {
	var b strings.Builder
	for i := range u {
		if diff[i] {
			b.WriteString(u[i].text)
			b.WriteByte(0)
		}
	}
	return b.String()
}

// generalise is the unit that covers both a (a template's) and b: a
// variable that keeps the punctuation both have around it ("<*>," for
// "root," and "admin,").
func generalise(a, b unit) unit {
	switch {
	case unitCovers(a, b):
		return a
	case a.kind == uKV:
		return a
	case b.kind == uKV:
		return b
	}
	if k := kvKey(a.text); a.kind == uConst && b.kind == uConst && k != "" && k == kvKey(b.text) {
		// Two words as values of one key: the key stays.
		_, sa := kvAffixes(a.text)
		_, sb := kvAffixes(b.text)
		n := 0
		for n < len(sa) && n < len(sb) && sa[len(sa)-1-n] == sb[len(sb)-1-n] {
			n++
		}
		i := strings.IndexByte(a.text, '=')
		return unit{kind: uKV, text: a.text[:i+1] + Wildcard + sa[len(sa)-n:]}
	}
	pa, sa, wa := outerText(a)
	pb, sb, wb := outerText(b)
	n := 0
	for n < len(pa) && n < len(pb) && pa[n] == pb[n] {
		n++
	}
	k := 0
	for k < len(sa) && k < len(sb) && sa[len(sa)-1-k] == sb[len(sb)-1-k] {
		k++
	}
	// Keep whole names: "node-<*>" and "core.<*>" share "", not "c".
	if n < len(pa) || n < len(pb) {
		for n > 0 && isWordByte(pa[n-1]) {
			n--
		}
	}
	// A dotted name keeps a common part of two parts or more
	// ("com.apple.<*>"); "com.<*>" says little.
	if (wa || wb) && n > 0 && pa[n-1] == '.' && strings.Count(pa[:n], ".") < 2 {
		n = 0
	}
	// A whole word's prefix and suffix must not overlap: "ab.<*>.ab"
	// does not cover "ab.ab".
	for k > 0 && (wa && n+k > len(pa) || wb && n+k > len(pb)) {
		k--
	}
	if k < len(sa) || k < len(sb) {
		for k > 0 && isWordByte(sa[len(sa)-k]) {
			k--
		}
	}
	if n == 0 && k == 0 {
		return unit{kind: uVar}
	}
	return unit{kind: uVar, text: pa[:n] + Wildcard + sa[len(sa)-k:]}
}

// unitShown reports a variable that shows its unit ("<*> KB", see
// tok.us): a lit with the variable in it.
func unitShown(u unit) bool {
	return u.kind == uVar && u.lit != "" && strings.Contains(u.lit, Wildcard)
}

// hideUnits drops the unit shown by the quantities of units of the
// dimensions dims (see unitDimension): those of a quantity that no longer
// shows one. A message prints its quantities with one formatter: when it
// picks the unit by magnitude at one place ("estimated size 1.2 KB" and
// "estimated size 417 B"), it does at the other places of that dimension
// too ("free 384.4 KB" is as often "free 1.2 MB"), so a unit that has not
// changed there yet is part of the value as well.
func hideUnits(units []unit, dims uint8) {
	for i := range units {
		if unitShown(units[i]) && unitDimension(units[i].lit)&dims != 0 {
			units[i].lit = ""
		}
	}
}

// outerText returns what generalise may keep of a unit before and after
// the variable it becomes: for a word, and a variable that shows its
// one name (see numberedName, qualifiedName), the whole text (whole), so
// that names with a common part keep it ("com.apple.<*>:" for
// "com.apple.cts:" and "com.apple.Safari.Update:", "user-<*>" for
// "user-alice" and "user-bob"; generalise keeps only parts ending at
// punctuation); for a variable, its affixes.
func outerText(u unit) (pre, suf string, whole bool) {
	switch {
	case u.kind == uConst:
		return u.text, u.text, true
	case u.kind == uVar && u.lit != "" && !strings.Contains(u.lit, Wildcard):
		return u.lit, u.lit, true
	}
	pre, suf = affixes(u)
	return pre, suf, false
}

// kvAffixes splits key=value text at the value: the key with its '=',
// and the punctuation after the value.
func kvAffixes(s string) (key, suf string) {
	i := strings.IndexByte(s, '=')
	j := len(s)
	for j > i+1 && isTrailPunct(s[j-1]) {
		j--
	}
	return s[:i+1], s[j:]
}

// affixes returns the punctuation before and after the word or variable
// of a unit: "(" and ")," for "(<*>)," or "(root),".
func affixes(u unit) (pre, suf string) {
	switch u.kind {
	case uVar:
		if i := strings.Index(u.text, Wildcard); i >= 0 {
			return u.text[:i], u.text[i+len(Wildcard):]
		}
		return "", ""
	case uKV:
		return "", ""
	}
	i, j := 0, len(u.text)
	for i < j && isLeadPunct(u.text[i]) {
		i++
	}
	for j > i && isTrailPunct(u.text[j-1]) {
		j--
	}
	if i == j {
		return "", ""
	}
	return u.text[:i], u.text[j:]
}

// bothVars reports two variable units, which may differ in punctuation or
// in the numbered name they show but are the same place of a template.
func bothVars(a, b unit) bool { return a.kind == uVar && b.kind == uVar }

// coversAll reports whether template t covers units u position by
// position (see unitCovers).
func coversAll(t, u []unit) bool {
	for i := range t {
		if !unitCovers(t[i], u[i]) {
			return false
		}
	}
	return true
}

// unitCovers reports whether template unit a matches every message that
// unit b matches: they are equal, a is a bare variable, or a is a
// variable with punctuation around it that b has too ("(<*>)" covers
// "(root)").
func unitCovers(a, b unit) bool {
	if a == b {
		return true
	}
	if a.kind != uVar || b.kind == uKV || a.lit != "" {
		return false
	}
	if a.text == "" {
		return true
	}
	if b.kind == uVar && b.text == "" {
		return false
	}
	pre, suf := affixes(a)
	t := b.text
	return len(t) >= len(pre)+len(suf) && strings.HasPrefix(t, pre) && strings.HasSuffix(t, suf)
}

// best finds the pattern lu fits best: among the patterns of its bucket
// that cover it or differ from it only in few free words, the one with the
// most equal constants, then the fewest differences, then the oldest.
func (m *Miner) best(lu []unit) (ci int32, mis int, found bool) {
	if len(lu) == 0 {
		ci, found = m.byID[TemplateID("")]
		return ci, 0, found
	}
	bk := bucketKey{n: len(lu)}
	bestSame := -1
	for _, i := range m.buckets[bk] {
		c := &m.clusters[i]
		same, diff, ok := compare(c.units, lu)
		if !ok {
			continue
		}
		if same > bestSame || same == bestSame && diff < mis {
			ci, mis, bestSame, found = i, diff, same, true
		}
	}
	return ci, mis, found
}

// compare matches template t against units u of the same length. same
// counts the constants (and key=) that agree, diff the positions where t
// would have to become more general. ok is false when u cannot join t: a
// difference in the key of a key=value word, in a word that is not free,
// too many differences, or no constant in common. Plain words as values of
// one key (user=root, user=guest) are free words: like words of a
// sentence, they become user=<*> once the place has shown wordValues
// different words, since a key names a place where data goes.
//
// The threshold: one difference needs three agreeing constants; more
// differences need four agreeing constants each. A message of a known kind
// usually brings one new value at a time (a user, a host), while several
// words changing at once is more likely another kind of message. So
// "Invalid user alice from <*>" joins "Invalid user bob from <*>", but
// "cupsd startup succeeded" does not join "cupsd shutdown succeeded": in a
// short message every word counts.
func compare(t, u []unit) (same, diff int, ok bool) {
	values := 0 // differences in the value of a key already seen variable
	for i := range t {
		a, b := t[i], u[i]
		switch {
		case a == b:
			if a.kind != uVar {
				same++
			}
			continue
		case unitCovers(a, b):
			continue
		case a.kind == uVar && b.kind == uVar:
			// Variables both, that differ in punctuation or name: the
			// same place, widened when u joins (see place).
			continue
		case a.kind == uVar:
			// A variable already, only its punctuation differs: not
			// held against the join, as for a key's value below.
			values++
		case a.kind == uKV && b.kind == uConst && kvKey(a.text) != "" && kvKey(a.text) == kvKey(b.text),
			b.kind == uKV && a.kind == uConst && kvKey(b.text) != "" && kvKey(b.text) == kvKey(a.text):
			c := a
			if c.kind != uConst {
				c = b
			}
			if emptyValue(c.text) {
				// "rhost=" says there is none: another event than
				// rhost=<*>.
				return 0, 0, false
			}
			values++
		case a.kind == uKV || b.kind == uKV:
			return 0, 0, false
		case a.kind == uConst && b.kind == uConst && kvKey(a.text) != "" && kvKey(a.text) == kvKey(b.text) && !emptyValue(a.text) && !emptyValue(b.text):
			// Two words as values of one key (user=root, user=guest):
			// free words, as in a sentence.
		case a.kind == uConst && (b.kind == uVar || b.kind == uConst) && free(a.text) && (b.kind == uVar || free(b.text)):
		default:
			return 0, 0, false
		}
		diff++
	}
	// A key whose value is a variable on one side (ws=null, ws=<*>) is
	// data by its form, so it is not held against the join.
	if d := diff - values; d > 0 && (same < 3 || d > 1 && same < 4*d) {
		return 0, 0, false
	}
	if same == 0 && !slices.Equal(t, u) {
		// A template of variables alone ("<*>") says nothing of the
		// messages it would take in.
		return 0, 0, false
	}
	return same, diff, true
}

// emptyValue reports a key=value text whose value is empty ("rhost=",
// "logname=,").
func emptyValue(s string) bool {
	i := strings.IndexByte(s, '=')
	if i < 0 {
		return false
	}
	for k := i + 1; k < len(s); k++ {
		if !isTrailPunct(s[k]) {
			return false
		}
	}
	return true
}

// kvKey is the "key=" of a key=value text, or "" when it has none.
func kvKey(s string) string {
	i := strings.IndexAny(s, "=")
	if i <= 0 {
		return ""
	}
	j := 0
	for j < i && isLeadPunct(s[j]) {
		j++
	}
	return s[j : i+1]
}

// free reports a constant word that may turn out to be a variable: a name
// rather than a key=value pair, punctuation or a one-letter flag or axis
// ("x+", "-v"), which are enumerations that make different events. A word
// that starts with a capital letter is not free either: code writes its
// states, methods and kinds that way (RUNNING, GET, SCREEN_ON, "VM Paused",
// "client SPP"), while the names a message is about (users, hosts, files)
// are data, usually lower case, or carry digits and dots that make them
// variables anyway.
func free(s string) bool {
	if strings.IndexByte(s, '=') >= 0 {
		return false
	}
	k := 0
	for k < len(s) && isLeadPunct(s[k]) {
		k++
	}
	if k < len(s) && s[k] >= 'A' && s[k] <= 'Z' {
		return false
	}
	alnum := 0
	for k := 0; k < len(s); k++ {
		if isLetter(s[k]) || isDigit(s[k]) {
			alnum++
		}
	}
	return alnum >= 2
}

// create starts a pattern, evicting first if the cap is reached.
func (m *Miner) create(lu []unit, count uint64, example []byte) int32 {
	if m.live >= m.opt.MaxPatterns {
		m.evict()
	}
	ex := example
	if len(ex) > m.opt.MaxExample {
		ex = ex[:m.opt.MaxExample]
	}
	c := cluster{units: lu, count: count, last: m.tick, example: string(ex), live: true}
	var ci int32
	if n := len(m.free); n > 0 {
		ci = m.free[n-1]
		m.free = m.free[:n-1]
		m.clusters[ci] = c
	} else {
		ci = int32(len(m.clusters))
		m.clusters = append(m.clusters, c)
	}
	m.live++
	m.index(ci)
	return m.rekey(ci)
}

// index puts cluster ci into its bucket.
func (m *Miner) index(ci int32) {
	c := &m.clusters[ci]
	bk := bucketKey{n: len(c.units)}
	c.bucket = bk
	m.buckets[bk] = append(m.buckets[bk], ci)
}

// rekey recomputes the ID of cluster ci after its template changed. If
// another pattern already has that template, the two are one pattern now:
// the older absorbs the newer, so IDs stay unique. It returns the index of
// the surviving cluster.
func (m *Miner) rekey(ci int32) int32 {
	c := &m.clusters[ci]
	old := c.id
	c.id = TemplateID(templateText(c.units))
	if m.byID[old] == ci {
		delete(m.byID, old)
	}
	if m.track && old != 0 && old != c.id {
		// (A new cluster has no id yet: 0, and nothing to move.)
		m.moves = append(m.moves, move{from: old, to: c.id})
	}
	other, dup := m.byID[c.id]
	if !dup || other == ci {
		m.byID[c.id] = ci
		return ci
	}
	keep, drop := other, ci
	if ci < other {
		keep, drop = ci, other
	}
	m.byID[c.id] = keep
	m.absorb(keep, drop)
	return keep
}

// absorb moves the messages of cluster drop into keep and frees drop.
func (m *Miner) absorb(keep, drop int32) {
	k, d := &m.clusters[keep], &m.clusters[drop]
	if m.track && d.id != k.id {
		m.moves = append(m.moves, move{from: d.id, to: k.id})
	}
	k.count += d.count
	k.last = max(k.last, d.last)
	for h, i := range m.keys {
		if i == drop {
			m.keys[h] = keep
		}
	}
	m.remove(drop)
}

// absorbCovered folds into cluster ci, whose template just became more
// general, every other pattern of its bucket that the template now covers:
// "domain root_domain" was a pattern of its own until "domain <*>" came.
func (m *Miner) absorbCovered(ci int32) {
	b := m.buckets[m.clusters[ci].bucket]
	var drop []int32
	for _, j := range b {
		if j != ci && covers(m.clusters[ci].units, m.clusters[j].units) {
			drop = append(drop, j)
		}
	}
	for _, j := range drop {
		m.absorb(ci, j)
	}
}

// covers reports whether template t matches every message of template u:
// equal at each position, or a variable where u has anything.
func covers(t, u []unit) bool {
	consts := 0
	for i := range t {
		if !unitCovers(t[i], u[i]) {
			return false
		}
		if t[i].kind != uVar {
			consts++
		}
	}
	return consts > 0
}

// remove frees cluster ci (its keys must already be gone or repointed).
func (m *Miner) remove(ci int32) {
	c := &m.clusters[ci]
	if m.byID[c.id] == ci {
		delete(m.byID, c.id)
	}
	b := m.buckets[c.bucket]
	if i := slices.Index(b, ci); i >= 0 {
		b = slices.Delete(b, i, i+1)
	}
	if len(b) == 0 {
		delete(m.buckets, c.bucket)
	} else {
		m.buckets[c.bucket] = b
	}
	*c = cluster{}
	m.free = append(m.free, ci)
	m.live--
}

// evict drops the tenth of the patterns with the fewest messages, ties
// broken by the least recent message. Dropping many at once keeps the cost
// of an eviction (a scan of the key cache) rare.
func (m *Miner) evict() {
	var order []int32
	for i := range m.clusters {
		if m.clusters[i].live {
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		ca, cb := &m.clusters[a], &m.clusters[b]
		if ca.count != cb.count {
			return cmpU(ca.count, cb.count)
		}
		if ca.last != cb.last {
			return cmpU(ca.last, cb.last)
		}
		return cmpU(uint64(ca.id), uint64(cb.id))
	})
	n := max(1, len(order)/10)
	gone := make(map[int32]bool, n)
	for _, ci := range order[:n] {
		gone[ci] = true
	}
	for h, ci := range m.keys {
		if gone[ci] {
			delete(m.keys, h)
		}
	}
	for _, ci := range order[:n] {
		if m.track {
			m.moves = append(m.moves, move{from: m.clusters[ci].id, evicted: true})
		}
		m.remove(ci)
	}
	m.evicted += uint64(n)
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// templateText writes units as a template: constants as they are, variables
// as <*>, separated by single spaces.
func templateText(units []unit) string {
	var b strings.Builder
	for i, u := range units {
		if i > 0 {
			b.WriteByte(' ')
		}
		if u.lit != "" {
			b.WriteString(u.lit)
		} else if u.kind == uVar && u.text == "" {
			b.WriteString(Wildcard)
		} else {
			b.WriteString(u.text)
		}
	}
	return b.String()
}

func (c *cluster) pattern() Pattern {
	return Pattern{ID: c.id, Template: templateText(c.units), Count: c.count, Example: c.example}
}

// Patterns returns the patterns held, the most frequent first (ties by
// template), so that the output does not depend on internal order.
func (m *Miner) Patterns() []Pattern {
	ps := make([]Pattern, 0, m.live)
	for i := range m.clusters {
		if m.clusters[i].live {
			ps = append(ps, m.clusters[i].pattern())
		}
	}
	slices.SortFunc(ps, func(a, b Pattern) int {
		if a.Count != b.Count {
			return cmpU(b.Count, a.Count)
		}
		return strings.Compare(a.Template, b.Template)
	})
	return ps
}

// Pattern returns the pattern with the given ID.
func (m *Miner) Pattern(id ID) (Pattern, bool) {
	ci, ok := m.byID[id]
	if !ok {
		return Pattern{}, false
	}
	return m.clusters[ci].pattern(), true
}

// String summarises the miner for debugging.
func (m *Miner) String() string {
	return fmt.Sprintf("patterns.Miner{%d patterns, %d keys, %d evicted}", m.live, len(m.keys), m.evicted)
}
