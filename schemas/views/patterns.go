package views

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
)

// Patterns counts the events of a pane per log pattern (the template
// mined by schemas/patterns): for each pattern its count, template, one
// example line (its text, cut to PatternExampleMax bytes, and its place in
// Kafka and the lake: partition and offset), first and last event time,
// and per (instance, level) (LevelKeyOf) a count with its own first and
// last event time. Every event counts under
// exactly one pattern, so the counts add up to the pane's events.
//
// # Where an event counts
//
// Speed mines per Kafka partition, batch per partition in offset order
// over the lake, with one patterns.Tracker each: an event counts under the
// pattern its partition's miner gave it when it arrived. Templates widen
// as lines arrive ("user <*>" after the third user), and a wider pattern
// takes in the narrower ones it now covers. The tracker reports each such
// step as an absorption, absorbed id -> absorbing id (with the absorbing
// template), and the state records it (Absorb). The rule: a state never
// holds an entry for an absorbed id; its counts, levels, first/last seen
// and example move into the absorbing pattern, following chains (a -> b,
// b -> c: a's counts are c's). Absorptions are kept in the state and
// applied again whenever states merge, so a pane counted under a narrow
// pattern in one partition is reported under the wide one as soon as it
// is merged with any pane (of any partition, earlier or later) whose
// miner recorded the absorption. A range reported alone keeps the
// patterns its own panes knew. If two partitions absorbed the same id
// into different patterns, the smaller absorbing id wins.
//
// # Bounds
//
// A state holds at most PatternsCap patterns besides PatternsOther: beyond
// it, the rarest (fewest events, then the larger id) fold into the entry
// PatternsOther, template "(other)", so counts still add up. Folding is
// lazy (up to twice the cap between folds); reads see the folded state and
// never change the receiver. Each pattern keeps at most PatternKeysCap
// (instance, level) keys; further instances count under LevelsOther. The
// absorptions kept are capped at 4*PatternsCap (the largest absorbed ids
// are forgotten first; their entries are resolved already). Below the
// caps, and without conflicting absorptions, Merge is associative and
// commutative; at the caps the totals still add up.
type Patterns struct {
	limit    int
	entries  map[patterns.ID]*PatternStat
	absorbed map[patterns.ID]patterns.Absorption
}

// PatternStat is one pattern of a Patterns state.
type PatternStat struct {
	ID       patterns.ID
	Template string
	Count    int64
	// Example is the mined message of the example line, cut to
	// PatternExampleMax bytes; ExPartition and ExOffset locate the whole
	// raw line (the smallest (partition, offset) seen).
	Example     string
	ExPartition int32
	ExOffset    int64
	// First and Last are the event times of the first and last events, Unix
	// nanoseconds.
	First, Last int64
	// Keys counts the events per (instance, level), with the first and
	// last event time of each, so that a query for one level or instance
	// says when that level or instance saw the pattern. Through a pointer:
	// counting by assigning would key the figures by the event's strings
	// (see Hot.counts).
	Keys map[LevelKey]*PatternKey
}

// PatternKey is what a pattern holds per (instance, level): its events and
// their first and last event times (Unix nanoseconds, as PatternStat's).
type PatternKey struct {
	Count, First, Last int64
}

// merge adds o into k.
func (k PatternKey) merge(o PatternKey) PatternKey {
	if k.Count == 0 {
		return o
	}
	return PatternKey{Count: k.Count + o.Count, First: min(k.First, o.First), Last: max(k.Last, o.Last)}
}

// Pattern view bounds; see Patterns.
const (
	PatternsCap       = 1000
	PatternKeysCap    = 64
	PatternExampleMax = 256
)

// PatternMinerOptions are the options of the miners of speed and batch:
// both must mine alike for their ids to agree.
var PatternMinerOptions = patterns.Options{MaxExample: PatternExampleMax}

// PatternsOther is the id of the entry holding the folded rare patterns;
// no template hashes to it in practice (it is 0).
const PatternsOther patterns.ID = 0

// PatternsOtherTemplate is the template shown for PatternsOther.
const PatternsOtherTemplate = "(other)"

// NewPatterns returns an empty state with the default cap.
func NewPatterns() *Patterns { return newPatternsCap(PatternsCap) }

func newPatternsCap(limit int) *Patterns {
	return &Patterns{limit: limit, entries: map[patterns.ID]*PatternStat{}, absorbed: map[patterns.ID]patterns.Absorption{}}
}

// PatternMessage is the text an event is mined by, the rule speed and
// batch share: the message; else, for a request without one (access
// logs), "METHOD path status"; else the raw line. buf is reused.
func PatternMessage(ev *event.Event, buf []byte) []byte {
	if ev.Msg != "" {
		return append(buf[:0], ev.Msg...)
	}
	if ev.Method != "" || ev.Path != "" {
		b := append(buf[:0], ev.Method...)
		b = append(b, ' ')
		b = append(b, ev.Path...)
		b = append(b, ' ')
		if st := ev.Status; st >= 100 && st <= 999 {
			// Every HTTP status: three digits without strconv's
			// general case, a tenth of the view's own cost an event.
			return append(b, byte('0'+st/100), byte('0'+st/10%10), byte('0'+st%10))
		}
		return strconv.AppendInt(b, int64(ev.Status), 10)
	}
	return append(buf[:0], ev.Raw...)
}

// Add counts ev, whose mined message is msg, under pattern id with
// template tmpl. The caller leaves out parse errors, as Pane.Add does.
func (s *Patterns) Add(id patterns.ID, tmpl string, ev *event.Event, msg []byte) {
	if a, ok := s.absorbed[id]; ok {
		id, tmpl = s.resolve(a)
	}
	e := s.entries[id]
	// Microseconds, as the lake keeps times: batch's figures equal speed's.
	t := ev.Time.UnixMicro() * 1000
	if e == nil {
		ex := msg
		if len(ex) > PatternExampleMax {
			ex = ex[:PatternExampleMax]
		}
		e = &PatternStat{ID: id, Template: tmpl, Example: string(ex), ExPartition: ev.Partition, ExOffset: ev.Offset,
			First: t, Last: t, Keys: make(map[LevelKey]*PatternKey, 4)}
		s.entries[id] = e
		defer s.maybeFold() // after e is counted: folding may move it
	} else {
		if t < e.First {
			e.First = t
		}
		if t > e.Last {
			e.Last = t
		}
		if ev.Partition < e.ExPartition || ev.Partition == e.ExPartition && ev.Offset < e.ExOffset {
			ex := msg
			if len(ex) > PatternExampleMax {
				ex = ex[:PatternExampleMax]
			}
			e.Example, e.ExPartition, e.ExOffset = string(ex), ev.Partition, ev.Offset
		}
	}
	e.Count++
	e.addKey(LevelKeyOf(ev), PatternKey{Count: 1, First: t, Last: t})
}

func (e *PatternStat) addKey(k LevelKey, n PatternKey) {
	c := e.Keys[k]
	if c == nil && len(e.Keys) >= PatternKeysCap && k.Instance != LevelsOther {
		k.Instance = LevelsOther
		c = e.Keys[k]
	}
	if c != nil {
		*c = c.merge(n) // one map operation per event
		return
	}
	c = new(PatternKey)
	*c = n
	e.Keys[k.clone()] = c
}

// sortedKeys returns the keys of e in order, for results that must not
// depend on map order.
func (e *PatternStat) sortedKeys() []LevelKey {
	return slices.SortedFunc(maps.Keys(e.Keys), compareLevelKeys)
}

// Filtered returns the events of e of one level and one instance (empty:
// any) and their first and last event times (Unix nanoseconds; 0 when
// none).
func (e *PatternStat) Filtered(level, instance string) (n, first, last int64) {
	if level == "" && instance == "" {
		return e.Count, e.First, e.Last
	}
	var acc PatternKey
	for k, c := range e.Keys {
		if (level == "" || k.Level == level) && (instance == "" || k.Instance == instance) {
			acc = acc.merge(*c)
		}
	}
	return acc.Count, acc.First, acc.Last
}

// Absorb records that pattern a.From was taken in by a.To and moves any
// counts of a.From (and of patterns absorbed into it) there.
func (s *Patterns) Absorb(a patterns.Absorption) {
	if a.From == a.To || a.From == PatternsOther {
		return
	}
	if old, ok := s.absorbed[a.From]; ok && old.To <= a.To {
		return // the smaller absorbing id wins
	}
	s.absorbed[a.From] = a
	s.settle()
}

// settle resolves every absorption chain and moves the entries of
// absorbed ids into their absorbers.
func (s *Patterns) settle() {
	for from, a := range s.absorbed {
		to, tmpl := s.resolve(a)
		if to == from {
			delete(s.absorbed, from) // a cycle: keep the pattern itself
			continue
		}
		a.To, a.Template = to, tmpl
		s.absorbed[from] = a
	}
	for from, a := range s.absorbed {
		if e, ok := s.entries[from]; ok {
			delete(s.entries, from)
			s.mergeEntry(a.To, a.Template, e)
		}
	}
	if len(s.absorbed) > 4*s.limit {
		ids := make([]patterns.ID, 0, len(s.absorbed))
		for id := range s.absorbed {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids[4*s.limit:] {
			delete(s.absorbed, id)
		}
	}
	s.maybeFold()
}

// resolve follows a's chain to the pattern that is absorbed by none.
func (s *Patterns) resolve(a patterns.Absorption) (patterns.ID, string) {
	to, tmpl := a.To, a.Template
	for i := 0; i < 64; i++ {
		n, ok := s.absorbed[to]
		if !ok || n.To == a.From {
			return to, tmpl
		}
		to, tmpl = n.To, n.Template
	}
	return to, tmpl
}

// mergeEntry adds e's figures into the entry id (created with tmpl).
func (s *Patterns) mergeEntry(id patterns.ID, tmpl string, e *PatternStat) {
	d := s.entries[id]
	if d == nil {
		d = &PatternStat{ID: id, Template: tmpl, Example: e.Example, ExPartition: e.ExPartition, ExOffset: e.ExOffset,
			First: e.First, Last: e.Last, Keys: make(map[LevelKey]*PatternKey, len(e.Keys))}
		s.entries[id] = d
	} else {
		d.First, d.Last = min(d.First, e.First), max(d.Last, e.Last)
		if e.ExPartition < d.ExPartition || e.ExPartition == d.ExPartition && e.ExOffset < d.ExOffset {
			d.Example, d.ExPartition, d.ExOffset = e.Example, e.ExPartition, e.ExOffset
		}
	}
	d.Count += e.Count
	if len(d.Keys)+len(e.Keys) <= PatternKeysCap {
		// No key can reach the cap: the order does not matter.
		for k, c := range e.Keys {
			if dc := d.Keys[k]; dc != nil {
				*dc = dc.merge(*c)
			} else {
				nc := *c
				d.Keys[k] = &nc
			}
		}
		return
	}
	for _, k := range e.sortedKeys() {
		d.addKey(k, *e.Keys[k])
	}
}

// Merge adds o into s: o's absorptions join s's, then every entry of both
// is resolved through them.
func (s *Patterns) Merge(o *Patterns) {
	if o == nil {
		return
	}
	for from, a := range o.absorbed {
		if old, ok := s.absorbed[from]; !ok || a.To < old.To {
			s.absorbed[from] = a
		}
	}
	for _, id := range o.sortedIDs() {
		s.mergeEntry(id, o.entries[id].Template, o.entries[id])
	}
	s.settle()
}

// Clone returns an independent copy.
func (s *Patterns) Clone() *Patterns {
	c := newPatternsCap(s.limit)
	for id, e := range s.entries {
		ce := *e
		ce.Keys = make(map[LevelKey]*PatternKey, len(e.Keys))
		ks := make([]PatternKey, 0, len(e.Keys))
		for k, c := range e.Keys {
			ks = append(ks, *c)
			ce.Keys[k] = &ks[len(ks)-1]
		}
		c.entries[id] = &ce
	}
	for id, a := range s.absorbed {
		c.absorbed[id] = a
	}
	return c
}

// Total is the number of events counted.
func (s *Patterns) Total() int64 {
	var t int64
	for _, e := range s.entries {
		t += e.Count
	}
	return t
}

// Len is the number of patterns held, PatternsOther included.
func (s *Patterns) Len() int { return len(s.folded()) }

// Stats returns the patterns, the most frequent first (ties by id), with
// the cap applied. The entries are the state's own: do not change them.
func (s *Patterns) Stats() []*PatternStat {
	es := s.folded()
	out := make([]*PatternStat, 0, len(es))
	for _, e := range es {
		out = append(out, e)
	}
	slices.SortFunc(out, compareStats)
	return out
}

// Get returns the entry of id, after absorptions (nil if none).
func (s *Patterns) Get(id patterns.ID) *PatternStat {
	if a, ok := s.absorbed[id]; ok {
		id = a.To
	}
	return s.folded()[id]
}

// Resolve returns the id that id is counted under in s (itself unless
// absorbed).
func (s *Patterns) Resolve(id patterns.ID) patterns.ID {
	if a, ok := s.absorbed[id]; ok {
		return a.To
	}
	return id
}

// Absorptions returns the absorptions held, by absorbed id.
func (s *Patterns) Absorptions() []patterns.Absorption {
	out := make([]patterns.Absorption, 0, len(s.absorbed))
	for _, a := range s.absorbed {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b patterns.Absorption) int { return cmp.Compare(a.From, b.From) })
	return out
}

// Each calls f for every entry in no particular order, cap applied.
func (s *Patterns) Each(f func(e *PatternStat)) {
	for _, e := range s.folded() {
		f(e)
	}
}

// compareStats orders entries by count descending, then id.
func compareStats(a, b *PatternStat) int {
	if a.Count != b.Count {
		return cmp.Compare(b.Count, a.Count)
	}
	return cmp.Compare(a.ID, b.ID)
}

func (s *Patterns) sortedIDs() []patterns.ID {
	ids := make([]patterns.ID, 0, len(s.entries))
	for id := range s.entries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// named is the number of entries besides PatternsOther.
func (s *Patterns) named() int {
	n := len(s.entries)
	if _, ok := s.entries[PatternsOther]; ok {
		n--
	}
	return n
}

// folded returns the entries with the cap applied, without changing s.
func (s *Patterns) folded() map[patterns.ID]*PatternStat {
	if s.named() <= s.limit {
		return s.entries
	}
	c := s.Clone()
	c.fold()
	return c.entries
}

func (s *Patterns) maybeFold() {
	if s.named() > 2*s.limit {
		s.fold()
	}
}

// fold moves the rarest entries beyond the cap into PatternsOther.
func (s *Patterns) fold() {
	if s.named() <= s.limit {
		return
	}
	es := make([]*PatternStat, 0, len(s.entries))
	for id, e := range s.entries {
		if id != PatternsOther {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, compareStats)
	for _, e := range es[s.limit:] {
		delete(s.entries, e.ID)
		s.mergeEntry(PatternsOther, PatternsOtherTemplate, e)
	}
}

// Summary returns the number of patterns and events and the top five
// templates, for people reading the database.
func (s *Patterns) Summary() map[string]any {
	st := s.Stats()
	top := []map[string]any{}
	for i, e := range st {
		if i == 5 {
			break
		}
		top = append(top, map[string]any{"pattern": e.ID.String(), "template": e.Template, "count": e.Count})
	}
	return map[string]any{"patterns": len(st), "total": s.Total(), "absorbed": len(s.absorbed), "top": top}
}

// FirstTime and LastTime return an entry's first and last event times.
func (e *PatternStat) FirstTime() time.Time { return time.Unix(0, e.First).UTC() }

// LastTime is the time of the entry's last event.
func (e *PatternStat) LastTime() time.Time { return time.Unix(0, e.Last).UTC() }
