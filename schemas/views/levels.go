package views

import (
	"cmp"
	"slices"
	"strings"

	"github.com/loglambda/loglambda/schemas/event"
)

// Levels counts events per (instance, level): how many ERROR lines each
// database instance or host wrote in a pane. Speed and batch both count
// exactly, so batch panes and speed panes merge into the same figures.
//
// The key space is small in practice (instances times a handful of
// levels), but an instance field filled with request ids must not make a
// pane document grow without bound. So a state holds at most LevelsCap
// keys of real instances: beyond that, the keys that sort last (by
// instance, then level) are folded into the instance LevelsOther, keeping
// their level. Keeping the smallest keys, rather than the first seen, is
// what keeps Merge associative and commutative under the cap: the result
// depends only on the multiset of events, never on their order or on how
// they were split over partitions, so speed and batch still agree. Keys
// of LevelsOther are always kept (at most one per distinct level).
// Folding is lazy (the map may hold twice the cap between folds); every
// read (Each, Count, MarshalBinary, Len, Summary) sees the folded state
// without changing l, so a state shared by concurrent readers (serving)
// is safe.
type Levels struct {
	limit int
	// counts holds each key's count through a pointer: an assignment to a
	// map's existing key stores the new key's strings, so counting by
	// assigning would key the count by the event's strings, substrings of
	// a parsed line that it then keeps alive (see Hot.counts).
	counts map[LevelKey]*int64
}

// LevelKey is one (instance, level) pair.
type LevelKey struct {
	Instance string
	Level    string
}

// LevelsCap is the number of (instance, level) keys of real instances a
// Levels state keeps; see Levels.
const LevelsCap = 10000

// LevelsOther is the instance under which the keys beyond LevelsCap are
// counted.
const LevelsOther = "(other)"

// levelsNone stands for a missing instance or level, as in access logs.
const levelsNone = "-"

// NewLevels returns an empty state with the default cap.
func NewLevels() *Levels { return newLevelsCap(LevelsCap) }

func newLevelsCap(limit int) *Levels {
	return &Levels{limit: limit, counts: map[LevelKey]*int64{}}
}

// LevelKeyOf is the key an event counts under: the instance, else the
// host, else "-"; the level, else "-". Batch's SQL applies the same rule
// (batch.sqlInstanceKey, sqlLevelKey).
func LevelKeyOf(ev *event.Event) LevelKey {
	k := LevelKey{Instance: ev.Instance, Level: ev.Level}
	if k.Instance == "" {
		k.Instance = ev.Host
	}
	if k.Instance == "" {
		k.Instance = levelsNone
	}
	if k.Level == "" {
		k.Level = levelsNone
	}
	return k
}

// Add counts one event. The caller (Pane.Add) leaves out parse errors.
func (l *Levels) Add(ev *event.Event) {
	l.AddN(LevelKeyOf(ev), 1)
}

// AddN counts n events under k, as batch does from its GROUP BY.
func (l *Levels) AddN(k LevelKey, n int64) {
	if n <= 0 {
		return
	}
	if c := l.counts[k]; c != nil {
		*c += n
		return
	}
	c := new(int64) // not &n: n would move to the heap on every call
	*c = n
	l.counts[k.clone()] = c // a new key: stored with copies (see Paths.stat)
	l.maybeFold()
}

// add adds n under k, a key of another state (not an event's).
func (l *Levels) add(k LevelKey, n int64) {
	if c := l.counts[k]; c != nil {
		*c += n
		return
	}
	c := new(int64)
	*c = n
	l.counts[k] = c
}

// clone returns k with copies of its strings, which may be substrings of a
// parsed line (see Paths.stat).
func (k LevelKey) clone() LevelKey {
	return LevelKey{Instance: strings.Clone(k.Instance), Level: strings.Clone(k.Level)}
}

// Merge adds o into l.
func (l *Levels) Merge(o *Levels) {
	if o == nil {
		return
	}
	for k, n := range o.counts {
		l.add(k, *n)
	}
	l.maybeFold()
}

// Clone returns an independent copy.
func (l *Levels) Clone() *Levels {
	c := &Levels{limit: l.limit, counts: make(map[LevelKey]*int64, len(l.counts))}
	ns := make([]int64, len(l.counts))
	i := 0
	for k, n := range l.counts {
		ns[i] = *n
		c.counts[k] = &ns[i]
		i++
	}
	return c
}

// Len is the number of keys held.
func (l *Levels) Len() int { return len(l.folded()) }

// Count returns the count of one key.
func (l *Levels) Count(instance, level string) int64 {
	if c := l.folded()[LevelKey{instance, level}]; c != nil {
		return *c
	}
	return 0
}

// Total is the number of events counted.
func (l *Levels) Total() int64 {
	var t int64
	for _, n := range l.counts {
		t += *n
	}
	return t
}

// Each calls f for every key in sorted order (instance, then level).
func (l *Levels) Each(f func(k LevelKey, n int64)) {
	counts := l.folded()
	for _, k := range sortedLevelKeys(counts) {
		f(k, *counts[k])
	}
}

// EachUnsorted calls f for every key in no particular order: the cheap
// way to sum many states (serving's series).
func (l *Levels) EachUnsorted(f func(k LevelKey, n int64)) {
	for k, n := range l.folded() {
		f(k, *n)
	}
}

func sortedLevelKeys(counts map[LevelKey]*int64) []LevelKey {
	keys := make([]LevelKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareLevelKeys)
	return keys
}

// folded returns the counts with the cap applied, without changing l.
func (l *Levels) folded() map[LevelKey]*int64 {
	if l.named() <= l.limit {
		return l.counts
	}
	c := l.Clone()
	c.fold()
	return c.counts
}

// named is the number of keys of real instances (not LevelsOther).
func (l *Levels) named() int {
	n := 0
	for k := range l.counts {
		if k.Instance != LevelsOther {
			n++
		}
	}
	return n
}

func compareLevelKeys(a, b LevelKey) int {
	if c := cmp.Compare(a.Instance, b.Instance); c != 0 {
		return c
	}
	return cmp.Compare(a.Level, b.Level)
}

// maybeFold folds once the map holds twice the cap, so AddN stays O(1)
// amortised.
func (l *Levels) maybeFold() {
	if len(l.counts) > 2*l.limit+1 {
		l.fold()
	}
}

// fold moves the real-instance keys beyond the limit smallest into
// LevelsOther. Folding more often or less often gives the same result.
func (l *Levels) fold() {
	named := l.named()
	if named <= l.limit {
		return
	}
	keys := make([]LevelKey, 0, named)
	for k := range l.counts {
		if k.Instance != LevelsOther {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareLevelKeys)
	for _, k := range keys[l.limit:] {
		l.add(LevelKey{LevelsOther, k.Level}, *l.counts[k])
		delete(l.counts, k)
	}
}

// Summary returns the counts per level over all instances and the number
// of instances, for people reading the database.
func (l *Levels) Summary() map[string]any {
	per := map[string]int64{}
	inst := map[string]bool{}
	for k, n := range l.folded() {
		per[k.Level] += *n
		inst[k.Instance] = true
	}
	return map[string]any{"levels": per, "instances": len(inst), "total": l.Total()}
}
