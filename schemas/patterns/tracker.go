package patterns

// Tracker runs a Miner and reports, for every message, the pattern it was
// counted under and which patterns the miner absorbed meanwhile. The
// patterns view (views.Patterns) counts each line under the ID its pattern
// had when the line arrived; when a later line makes that pattern wider
// (its template generalises, so its ID changes) or folds it into another
// one, the old ID keeps its counts in the panes already written. The
// Absorptions say where they belong now, and the view applies them
// whenever states merge.
//
// The rule the Tracker keeps: the miner counts every message in exactly
// one pattern, Add returns that pattern, and every ID Add has returned
// that stops being live is reported in an Absorption to the pattern that
// holds its messages now, in the same Add. So counting each line under
// the ID Add returned and resolving the absorptions gives, per pattern,
// the miner's own counts. The only exception is the MaxPatterns cap: an
// evicted pattern's messages leave the miner, while the view keeps them
// under the evicted ID (no absorption: they went nowhere).
//
// The miner logs every move of messages between patterns as it makes it
// (Miner.moves), so the Tracker never has to guess where a pattern went;
// an Add that moved nothing costs a map lookup.
type Tracker struct {
	m *Miner
	// known maps the IDs a view may count under (those Add returned or
	// reported as absorbing, and the patterns of a restored miner) to
	// their templates.
	known map[ID]string
	out   []Absorption
	next  map[ID]move
	// last is the ID and template Add returned last: the next message is
	// often of the same pattern, and an ID's template never changes (the
	// ID is its hash), so Add then skips the lookup in known.
	last     ID
	lastTmpl string
	lastOK   bool
}

// Absorption says that pattern From was taken in by the wider pattern To
// (template Template): counts under From are To's.
type Absorption struct {
	From, To ID
	Template string
}

// NewTracker returns a Tracker over a new Miner with the given options.
func NewTracker(opt Options) *Tracker {
	return newTracker(NewMiner(opt))
}

// NewTrackerFrom returns a Tracker continuing a miner restored with
// UnmarshalSnapshot (speed's restart): its patterns are the known ones,
// so it reports what the tracker of the snapshot's miner would have.
func NewTrackerFrom(m *Miner) *Tracker {
	return newTracker(m)
}

func newTracker(m *Miner) *Tracker {
	t := &Tracker{m: m, known: map[ID]string{}, next: map[ID]move{}}
	for _, p := range m.Patterns() {
		t.known[p.ID] = p.Template
	}
	m.track, m.moves = true, m.moves[:0]
	return t
}

// Miner returns the tracked miner (to encode it; do not Add to it directly).
func (t *Tracker) Miner() *Miner { return t.m }

// Add mines msg and returns the ID and template of the pattern it was
// counted under, and the absorptions it caused (valid until the next Add).
func (t *Tracker) Add(msg []byte) (ID, string, []Absorption) {
	t.m.moves = t.m.moves[:0]
	id := t.m.Add(msg)
	var abs []Absorption
	if len(t.m.moves) > 0 {
		abs = t.settle()
	}
	if t.lastOK && id == t.last {
		return id, t.lastTmpl, abs // in known: a live ID is never dropped from it
	}
	tmpl, ok := t.known[id]
	if !ok {
		p, _ := t.m.Pattern(id)
		tmpl = p.Template
		t.known[id] = tmpl
	}
	t.last, t.lastTmpl, t.lastOK = id, tmpl, true
	return id, tmpl, abs
}

// settle turns the moves of the last Add into absorptions of the known
// IDs that stopped being live, each to the live pattern its messages
// reached through the chain of moves.
func (t *Tracker) settle() []Absorption {
	clear(t.next)
	for _, mv := range t.m.moves {
		t.next[mv.from] = mv
	}
	t.out = t.out[:0]
	for _, mv := range t.m.moves {
		if _, ok := t.known[mv.from]; !ok {
			continue // never reported, or already settled
		}
		if _, live := t.m.byID[mv.from]; live {
			continue // moved and taken again within this Add
		}
		delete(t.known, mv.from)
		to, gone := mv.from, false
		for hops := 0; hops <= len(t.m.moves); hops++ {
			n, ok := t.next[to]
			if !ok {
				break
			}
			if n.evicted {
				gone = true
				break
			}
			to = n.to
		}
		if gone || to == mv.from {
			continue
		}
		p, live := t.m.Pattern(to)
		if !live {
			continue
		}
		t.out = append(t.out, Absorption{From: mv.from, To: to, Template: p.Template})
		// The views know the absorbing ID now: when it moves on, that
		// is reported too.
		t.known[to] = p.Template
	}
	sortAbsorptions(t.out)
	return t.out
}

// Match returns the ID and template msg belongs to now, without mining it
// (speed's replay of a record the miner already saw).
func (t *Tracker) Match(msg []byte) (ID, string) {
	p, _ := t.m.Match(msg)
	return p.ID, p.Template
}

// sortAbsorptions orders absorptions by From, so that their effect does
// not depend on map order.
func sortAbsorptions(a []Absorption) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].From < a[j-1].From; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
