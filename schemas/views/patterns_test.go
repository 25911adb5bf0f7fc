package views

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
)

func patEvent(part int32, off int64, sec int, inst, level string) *event.Event {
	return &event.Event{Time: time.Date(2026, 11, 20, 10, 0, sec, 0, time.UTC), Partition: part, Offset: off, Instance: inst, Level: level}
}

func mustEncode(t *testing.T, s *Patterns) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPatternsAbsorbAcrossStates: a pane counted under a narrow pattern is
// reported under the wide one once merged with a state that recorded the
// absorption, whatever the merge order, and the codec keeps it all.
func TestPatternsAbsorbAcrossStates(t *testing.T) {
	narrow, wide := patterns.TemplateID("user alice"), patterns.TemplateID("user <*>")
	other := patterns.TemplateID("disk full")
	a := NewPatterns() // partition 0, earlier pane: only the narrow pattern
	for i := 0; i < 3; i++ {
		a.Add(narrow, "user alice", patEvent(0, int64(10+i), i, "db-1", "INFO"), []byte("user alice"))
	}
	a.Add(other, "disk full", patEvent(0, 20, 5, "db-1", "ERROR"), []byte("disk full"))
	b := NewPatterns() // partition 1, later: its miner widened the pattern
	b.Add(narrow, "user alice", patEvent(1, 5, 30, "db-2", "INFO"), []byte("user alice"))
	b.Absorb(patterns.Absorption{From: narrow, To: wide, Template: "user <*>"})
	b.Add(wide, "user <*>", patEvent(1, 6, 31, "db-2", "WARN"), []byte("user bob"))
	b.Add(narrow, "user alice", patEvent(1, 7, 32, "db-2", "INFO"), []byte("user alice"))

	ab, ba := a.Clone(), b.Clone()
	ab.Merge(b)
	ba.Merge(a)
	if !bytes.Equal(mustEncode(t, ab), mustEncode(t, ba)) {
		t.Fatalf("merge is not commutative:\n%v\n%v", ab.Stats(), ba.Stats())
	}
	if ab.Get(narrow) == nil || ab.Get(narrow).ID != wide {
		t.Fatalf("narrow pattern not resolved to the wide one: %+v", ab.Get(narrow))
	}
	for _, e := range ab.Stats() {
		if e.ID == narrow {
			t.Fatalf("absorbed id still has an entry: %+v", e)
		}
	}
	w := ab.Get(wide)
	if w.Count != 6 || w.Template != "user <*>" {
		t.Fatalf("wide pattern: count %d template %q, want 6 \"user <*>\"", w.Count, w.Template)
	}
	if w.ExPartition != 0 || w.ExOffset != 10 || w.Example != "user alice" {
		t.Errorf("example at p%d/%d %q, want the smallest location p0/10", w.ExPartition, w.ExOffset, w.Example)
	}
	if got := w.Keys[LevelKey{"db-2", "WARN"}]; got != 1 {
		t.Errorf("db-2 WARN = %d, want 1", got)
	}
	if ab.Total() != 7 {
		t.Errorf("total %d, want 7", ab.Total())
	}
	var dec Patterns
	if err := dec.UnmarshalBinary(mustEncode(t, ab)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustEncode(t, &dec), mustEncode(t, ab)) {
		t.Fatal("decode(encode) differs")
	}
	// A third state counted under the narrow id alone is resolved by the
	// absorption the decoded state carries.
	c := NewPatterns()
	c.Add(narrow, "user alice", patEvent(2, 1, 50, "db-3", "INFO"), []byte("user alice"))
	dec.Merge(c)
	if dec.Get(wide).Count != 7 {
		t.Errorf("after merging a narrow-only state: %d, want 7", dec.Get(wide).Count)
	}
}

// TestPatternsCap: beyond the cap the rarest patterns fold into (other)
// and the counts still add up, whatever the order of merges.
func TestPatternsCap(t *testing.T) {
	for _, tc := range []struct {
		name     string
		limit    int
		patterns int
	}{
		{"under", 50, 40},
		{"at", 50, 50},
		{"over", 50, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := []*Patterns{newPatternsCap(tc.limit), newPatternsCap(tc.limit), newPatternsCap(tc.limit)}
			var total int64
			for i := 0; i < tc.patterns; i++ {
				tmpl := fmt.Sprintf("kind %d", i)
				id := patterns.TemplateID(tmpl)
				n := 1 + (i*7)%13
				if i < 5 {
					n = 1000 // a clear head
				}
				for j := 0; j < n; j++ {
					parts[j%3].Add(id, tmpl, patEvent(int32(j%3), int64(j), j%60, "h", "INFO"), []byte(tmpl))
					total++
				}
			}
			m := newPatternsCap(tc.limit)
			for _, p := range parts {
				m.Merge(p)
			}
			if m.Total() != total {
				t.Fatalf("total %d, want %d", m.Total(), total)
			}
			st := m.Stats()
			var sum int64
			hasOther := false
			for _, e := range st {
				sum += e.Count
				hasOther = hasOther || e.ID == PatternsOther
			}
			if sum != total {
				t.Fatalf("folded counts sum to %d, want %d", sum, total)
			}
			if len(st) > tc.limit+1 {
				t.Fatalf("%d entries, cap %d", len(st), tc.limit)
			}
			if hasOther != (tc.patterns > tc.limit) {
				t.Errorf("(other) present = %v with %d patterns, cap %d", hasOther, tc.patterns, tc.limit)
			}
			if st[0].Count < 1000 {
				t.Errorf("the head was folded: top %+v", st[0])
			}
		})
	}
}

// TestPatternsDecodeCorrupt: truncated data is an error, never a panic.
func TestPatternsDecodeCorrupt(t *testing.T) {
	s := NewPatterns()
	s.Add(1, "a <*>", patEvent(0, 1, 1, "h", "INFO"), []byte("a 1"))
	s.Absorb(patterns.Absorption{From: 2, To: 1, Template: "a <*>"})
	b := mustEncode(t, s)
	for i := 0; i < len(b); i++ {
		var d Patterns
		if err := d.UnmarshalBinary(b[:i]); err == nil {
			t.Fatalf("truncated at %d of %d: no error", i, len(b))
		}
	}
}
