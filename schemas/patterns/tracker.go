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
// The Tracker only uses the Miner's exported API: a fast path when the
// message hit a known pattern and the miner's size did not move, a scan of
// the known patterns otherwise (a new pattern, a generalisation, an
// eviction), which are rare once a stream's templates have settled.
type Tracker struct {
	m       *Miner
	known   map[ID]known
	len     int
	evicted uint64
	out     []Absorption
}

// known is what the Tracker remembers of a live pattern: its template and
// one message it holds, to find where the pattern went once it vanished.
type known struct {
	template string
	example  string
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
	t := &Tracker{m: m, known: map[ID]known{}}
	for _, p := range m.Patterns() {
		t.known[p.ID] = known{template: p.Template, example: p.Example}
	}
	t.len, t.evicted = m.Len(), m.Evicted()
	return t
}

// Miner returns the tracked miner (to encode it; do not Add to it directly).
func (t *Tracker) Miner() *Miner { return t.m }

// Add mines msg and returns the ID and template of the pattern it was
// counted under, and the absorptions it caused (valid until the next Add).
func (t *Tracker) Add(msg []byte) (ID, string, []Absorption) {
	id := t.m.Add(msg)
	k, ok := t.known[id]
	n, ev := t.m.Len(), t.m.Evicted()
	if ok && n == t.len && ev == t.evicted {
		return id, k.template, nil
	}
	if !ok && n == t.len+1 && ev == t.evicted {
		// A pattern of its own: nothing else moved.
		k = t.learn(id)
		t.len = n
		return id, k.template, nil
	}
	t.out = t.out[:0]
	for old, ko := range t.known {
		if _, live := t.m.Pattern(old); live {
			continue
		}
		delete(t.known, old)
		p, found := t.m.Match([]byte(ko.example))
		if found && p.ID != old {
			t.out = append(t.out, Absorption{From: old, To: p.ID, Template: p.Template})
		}
	}
	if k, ok = t.known[id]; !ok {
		k = t.learn(id)
	}
	// Generalisations can leave more than one pattern new (a family made
	// one); learn every live pattern not known yet.
	if len(t.known) != n {
		for _, p := range t.m.Patterns() {
			if _, ok := t.known[p.ID]; !ok {
				t.known[p.ID] = known{template: p.Template, example: p.Example}
			}
		}
	}
	t.len, t.evicted = n, ev
	sortAbsorptions(t.out)
	return id, k.template, t.out
}

func (t *Tracker) learn(id ID) known {
	// The miner's own example, not msg: a tracker rebuilt from a restored
	// miner (NewTrackerFrom) then knows exactly what this one knows.
	p, _ := t.m.Pattern(id)
	k := known{template: p.Template, example: p.Example}
	t.known[id] = k
	return k
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
