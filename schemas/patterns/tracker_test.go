package patterns_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
	"github.com/loglambda/loglambda/schemas/views"
)

// The Tracker's contract, checked here through the patterns view it
// feeds: count every line under the id the Tracker returns, apply its
// absorptions, cut the stream into panes and merge them in any order; the
// count per template is then the miner's own (Miner.Patterns, what
// `loglambda patterns --summary` prints) for the same lines.

// trackLines runs lines through a Tracker into panes of paneLines lines
// each, as speed does, and returns the panes and a miner fed the same
// lines directly.
func trackLines(t *testing.T, lines []string, paneLines int) ([]*views.Patterns, *patterns.Miner) {
	t.Helper()
	tr := patterns.NewTracker(views.PatternMinerOptions)
	ref := patterns.NewMiner(views.PatternMinerOptions)
	var panes []*views.Patterns
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	for i, l := range lines {
		if i%paneLines == 0 {
			panes = append(panes, views.NewPatterns())
		}
		ref.AddString(l)
		id, tmpl, abs := tr.Add([]byte(l))
		if p, ok := tr.Miner().Pattern(id); !ok || p.Template != tmpl {
			t.Fatalf("line %d %q: tracker says %s %q, the miner has %+v (live %v)", i, l, id, tmpl, p, ok)
		}
		st := panes[len(panes)-1]
		for _, a := range abs {
			st.Absorb(a)
		}
		st.Add(id, tmpl, &event.Event{Time: t0.Add(time.Duration(i) * time.Second), Offset: int64(i)}, []byte(l))
	}
	return panes, ref
}

// templateCounts is the count per template of a state.
func templateCounts(s *views.Patterns) map[string]int64 {
	out := map[string]int64{}
	for _, e := range s.Stats() {
		out[e.Template] += e.Count
	}
	return out
}

// minerCounts is the count per template of a miner.
func minerCounts(m *patterns.Miner) map[string]int64 {
	out := map[string]int64{}
	for _, p := range m.Patterns() {
		out[p.Template] += int64(p.Count)
	}
	return out
}

// checkTracked merges the panes forwards and backwards and compares both
// with the miner's counts per template.
func checkTracked(t *testing.T, name string, lines []string, paneLines int) {
	t.Helper()
	panes, ref := trackLines(t, lines, paneLines)
	want := minerCounts(ref)
	for _, order := range []string{"forward", "backward"} {
		all := views.NewPatterns()
		for i := range panes {
			if order == "backward" {
				i = len(panes) - 1 - i
			}
			all.Merge(panes[i])
		}
		if got := templateCounts(all); !maps.Equal(got, want) {
			t.Errorf("%s, panes of %d lines merged %s: per template\nlive  %v\nminer %v", name, paneLines, order, got, want)
		}
		if all.Total() != int64(len(lines)) {
			t.Errorf("%s: %d lines counted, want %d", name, all.Total(), len(lines))
		}
	}
}

// TestTrackerViewEqualsMiner: per template, the live counts equal the
// miner's, on streams whose patterns widen in every way the miner knows:
// a word place after its third word, numbered names (george6) shown until
// they vary, and both at once in a family of patterns that differ in a
// word and in a numbered name (the case that once left a line counted
// under one pattern by the miner and under another by the Tracker).
func TestTrackerViewEqualsMiner(t *testing.T) {
	users := []string{"alice", "bob", "carol", "dave"}
	var words []string
	for i := 0; i < 300; i++ {
		words = append(words,
			fmt.Sprintf("session opened for user %s by (uid=0)", users[i%4]),
			fmt.Sprintf("Connection closed by 10.0.0.%d port %d", i%250, 1000+i),
			fmt.Sprintf("job %s finished in state %s", []string{"build", "test", "deploy"}[i%3], []string{"ok", "failed", "skipped", "ok"}[i%4]))
	}
	family := []string{
		// Three kinds of mail, each first seen with its own numbered
		// name: the third makes the family one pattern.
		"sent email confirm to george6",
		"sent email update to lena11",
		"sent email reset to anna3",
		"sent email confirm to george6",
		"sent email update to lena11",
		"sent email reset to anna3",
	}
	// Two places in one family: a word and a numbered name in brackets.
	brackets := []string{
		"retry call to inventory (worker7)",
		"retry call to pricing (worker9)",
		"retry call to shipping (pool2)",
		"retry call to inventory (worker7)",
		"retry call to pricing (pool2)",
	}
	cases := []struct {
		name  string
		lines []string
	}{
		{"words", words},
		{"family of numbered names", family},
		{"numbered names in brackets", brackets},
		{"random", randomLines(1, 3000)},
		{"random 2", randomLines(2, 3000)},
		{"random 3", randomLines(3, 3000)},
	}
	for _, c := range cases {
		for _, paneLines := range []int{1, 7, 100, len(c.lines)} {
			checkTracked(t, c.name, c.lines, paneLines)
		}
	}
	// The family is one pattern that covers its lines: no line counts
	// under a template showing another line's numbered name.
	m := patterns.NewMiner(patterns.Options{})
	for _, l := range family {
		m.AddString(l)
	}
	if ps := m.Patterns(); len(ps) != 1 || ps[0].Template != "sent email <*> to <*>" || ps[0].Count != uint64(len(family)) {
		t.Errorf("family of numbered names: patterns %v, want one \"sent email <*> to <*>\" of %d", ps, len(family))
	}
}

// randomLines makes n lines of a dozen kinds, where user names are
// numbered (george6), some places hold one of a few words, others numbers,
// and the kinds come in a random order, so that patterns are first seen
// narrow and widen in many different orders.
func randomLines(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 7))
	names := []string{"george", "lena", "anna", "ben", "zoe"}
	name := func() string { return fmt.Sprintf("%s%d", names[r.IntN(len(names))], r.IntN(4)) }
	word := func(ws ...string) string { return ws[r.IntN(len(ws))] }
	kinds := []func() string{
		func() string { return fmt.Sprintf("user %s logged in from 10.0.%d.%d", name(), r.IntN(9), r.IntN(250)) },
		func() string {
			return fmt.Sprintf("sent email %s to %s", word("confirm", "update", "reset", "welcome"), name())
		},
		func() string {
			return fmt.Sprintf("order %d placed by %s: %d items", 1000+r.IntN(9000), name(), 1+r.IntN(9))
		},
		func() string { return fmt.Sprintf("payment via %s for %s", word("stripe", "adyen", "paypal"), name()) },
		func() string {
			return fmt.Sprintf("retry call to %s (%s)", word("inventory", "pricing", "shipping"), name())
		},
		func() string { return fmt.Sprintf("cache %s for key %s", word("hit", "miss"), name()) },
		func() string {
			return fmt.Sprintf("job %s finished in %dms", word("build", "test", "deploy", "lint"), r.IntN(900))
		},
		func() string { return fmt.Sprintf("session %016x expired for %s", r.Uint64(), name()) },
		func() string { return fmt.Sprintf("rate limit for %s at %d of 1000", name(), r.IntN(1000)) },
		func() string {
			return fmt.Sprintf("%s %s %s", word("disk", "queue"), word("full", "empty", "stuck"), name())
		},
		func() string { return fmt.Sprintf("worker %s moved %s to %s", name(), word("shard", "slot"), name()) },
		func() string { return "heartbeat ok" },
	}
	// Each kind has a weight, so that rare kinds show their first lines
	// late, after the common ones have widened.
	weights := r.Perm(len(kinds))
	var lines []string
	for len(lines) < n {
		k := r.IntN(len(kinds))
		if r.IntN(len(kinds)) > weights[k] {
			continue
		}
		lines = append(lines, kinds[k]())
	}
	return lines
}

// TestTrackerAbsorptionsResolve: the absorptions alone say where every
// count goes: resolving each counted id through them gives the miner's
// counts per pattern id.
func TestTrackerAbsorptionsResolve(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		tr := patterns.NewTracker(patterns.Options{})
		counted := map[patterns.ID]uint64{}
		to := map[patterns.ID]patterns.ID{}
		absorbed := 0
		for _, l := range randomLines(seed, 2000) {
			id, _, abs := tr.Add([]byte(l))
			counted[id]++
			for _, a := range abs {
				to[a.From] = a.To
				absorbed++
			}
		}
		got := map[patterns.ID]uint64{}
		for id, n := range counted {
			for hops := 0; ; hops++ {
				next, ok := to[id]
				if !ok {
					break
				}
				if hops > 64 {
					t.Fatalf("seed %d: absorption cycle at %s", seed, id)
				}
				id = next
			}
			got[id] += n
		}
		want := map[patterns.ID]uint64{}
		for _, p := range tr.Miner().Patterns() {
			want[p.ID] = p.Count
		}
		if !maps.Equal(got, want) {
			ids := slices.Sorted(maps.Keys(want))
			t.Errorf("seed %d: resolved counts %v, miner %v (patterns %v)", seed, got, want, ids)
		}
		if absorbed == 0 {
			t.Errorf("seed %d: no absorption seen; the lines should widen", seed)
		}
	}
}

// TestTrackerEviction: at the MaxPatterns cap the rule's one exception
// holds and nothing else breaks: every line is still counted once, an
// evicted pattern's lines stay under its id in the view, and each pattern
// the miner holds has in the view at least its miner's count (more when
// its template was evicted and came back).
func TestTrackerEviction(t *testing.T) {
	opt := patterns.Options{MaxPatterns: 20}
	tr := patterns.NewTracker(opt)
	st := views.NewPatterns()
	r := rand.New(rand.NewPCG(5, 5))
	lines := randomLines(5, 3000)
	// Unique junk between the lines pushes patterns out.
	for i := range lines {
		if r.IntN(4) == 0 {
			lines[i] = fmt.Sprintf("junk %s %s", []string{"alpha", "bravo", "charlie", "delta", "echo", "fox"}[r.IntN(6)], strings.Repeat("x", 1+r.IntN(9)))
		}
	}
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	for i, l := range lines {
		id, tmpl, abs := tr.Add([]byte(l))
		for _, a := range abs {
			st.Absorb(a)
		}
		st.Add(id, tmpl, &event.Event{Time: t0, Offset: int64(i)}, []byte(l))
	}
	if tr.Miner().Evicted() == 0 {
		t.Fatal("nothing evicted; the test lines should fill the miner")
	}
	if st.Total() != int64(len(lines)) {
		t.Errorf("%d lines counted, want %d", st.Total(), len(lines))
	}
	for _, p := range tr.Miner().Patterns() {
		if e := st.Get(p.ID); e == nil || e.Count < int64(p.Count) {
			t.Errorf("pattern %q: view %+v, miner count %d", p.Template, e, p.Count)
		}
	}
}
