package views

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
)

func patEvent(part int32, off int64, sec int, inst, level string) *event.Event {
	return &event.Event{Time: time.Date(2026, 11, 20, 10, 0, sec, 0, time.UTC), Partition: part, Offset: off, Instance: inst, Level: level}
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
	at31 := patEvent(1, 6, 31, "", "").Time.UnixNano()
	if got := keyOf(w, "db-2", "WARN"); got != (PatternKey{Count: 1, First: at31, Last: at31}) {
		t.Errorf("db-2 WARN = %+v, want 1 event at %d", got, at31)
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
	checkTruncated(t, NewPatterns(), mustEncode(t, s))
}

// TestPatternsKeySeen: each (instance, level) keeps its own first and last
// event time, through merges and the codec, so that a query for one level
// says when that level saw the pattern; states written before (version 1)
// still decode, their keys taking the pattern's times.
func TestPatternsKeySeen(t *testing.T) {
	id := patterns.TemplateID("disk <*> full")
	a, b := NewPatterns(), NewPatterns()
	a.Add(id, "disk <*> full", patEvent(0, 1, 5, "db-1", "INFO"), []byte("disk a full"))
	a.Add(id, "disk <*> full", patEvent(0, 2, 9, "db-1", "ERROR"), []byte("disk b full"))
	b.Add(id, "disk <*> full", patEvent(1, 1, 20, "db-2", "ERROR"), []byte("disk c full"))
	b.Add(id, "disk <*> full", patEvent(1, 2, 40, "db-1", "INFO"), []byte("disk d full"))
	a.Merge(b)
	sec := func(s int) int64 { return patEvent(0, 0, s, "", "").Time.UnixNano() }
	for _, c := range []struct {
		level, instance string
		n, first, last  int64
	}{
		{"", "", 4, sec(5), sec(40)},
		{"ERROR", "", 2, sec(9), sec(20)},
		{"INFO", "", 2, sec(5), sec(40)},
		{"ERROR", "db-1", 1, sec(9), sec(9)},
		{"", "db-2", 1, sec(20), sec(20)},
		{"WARN", "", 0, 0, 0},
	} {
		for _, s := range []*Patterns{a, roundTrip(t, a)} {
			n, first, last := s.Get(id).Filtered(c.level, c.instance)
			if n != c.n || first != c.first || last != c.last {
				t.Errorf("level %q instance %q: %d events %d..%d, want %d %d..%d", c.level, c.instance, n, first, last, c.n, c.first, c.last)
			}
		}
	}

	// Version 1: one pattern, one key, no absorptions.
	v1 := []byte{1, 1}
	v1 = binary.BigEndian.AppendUint64(v1, uint64(id))
	v1 = appendBlob(v1, "disk <*> full")
	v1 = binary.AppendUvarint(v1, 3)
	v1 = appendBlob(v1, "disk a full")
	v1 = binary.AppendVarint(v1, 0)
	v1 = binary.AppendVarint(v1, 7)
	v1 = binary.AppendVarint(v1, sec(1))
	v1 = binary.AppendVarint(v1, sec(2))
	v1 = binary.AppendUvarint(v1, 1)
	v1 = appendBlob(v1, "db-1")
	v1 = appendBlob(v1, "WARN")
	v1 = binary.AppendUvarint(v1, 3)
	v1 = binary.AppendUvarint(v1, 0)
	s := NewPatterns()
	if err := s.UnmarshalBinary(v1); err != nil {
		t.Fatalf("version 1 state: %v", err)
	}
	if got := keyOf(s.Get(id), "db-1", "WARN"); got != (PatternKey{Count: 3, First: sec(1), Last: sec(2)}) {
		t.Errorf("version 1 key: %+v", got)
	}
}

// keyOf is e's figures of one (instance, level), zero when it has none.
func keyOf(e *PatternStat, instance, level string) PatternKey {
	if c := e.Keys[LevelKey{instance, level}]; c != nil {
		return *c
	}
	return PatternKey{}
}

// TestPatternMessageStatus holds the message of an event without one
// (method, path, status) to strconv's decimal status for every status
// from -1,100 to 11,000, whatever path the three-digit case takes.
func TestPatternMessageStatus(t *testing.T) {
	var buf []byte
	for st := int32(-1100); st <= 11000; st++ {
		ev := event.Event{Method: "GET", Path: "/a", Status: st}
		buf = PatternMessage(&ev, buf)
		if want := fmt.Sprintf("GET /a %d", st); string(buf) != want {
			t.Fatalf("status %d: message %q, want %q", st, buf, want)
		}
	}
}
