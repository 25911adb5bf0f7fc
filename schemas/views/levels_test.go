package views

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/loglambda/loglambda/schemas/event"
)

func TestLevelKeyOf(t *testing.T) {
	for _, tc := range []struct {
		ev   event.Event
		want LevelKey
	}{
		{event.Event{Instance: "db-1", Host: "h", Level: "ERROR"}, LevelKey{"db-1", "ERROR"}},
		{event.Event{Host: "h", Level: "WARN"}, LevelKey{"h", "WARN"}},
		{event.Event{Level: "INFO"}, LevelKey{"-", "INFO"}},
		{event.Event{Instance: "db-2"}, LevelKey{"db-2", "-"}},
		{event.Event{}, LevelKey{"-", "-"}},
	} {
		if got := LevelKeyOf(&tc.ev); got != tc.want {
			t.Errorf("%+v: got %v, want %v", tc.ev, got, tc.want)
		}
	}
}

// levelsEvents returns n events over `instances` instances and 4 levels,
// with their exact counts.
func levelsEvents(r *rand.Rand, n, instances int) ([]event.Event, map[LevelKey]int64) {
	lv := []string{"INFO", "WARN", "ERROR", ""}
	evs := make([]event.Event, n)
	truth := map[LevelKey]int64{}
	for i := range evs {
		evs[i] = event.Event{Instance: fmt.Sprintf("i%03d", r.IntN(instances)), Level: lv[r.IntN(len(lv))]}
		truth[LevelKeyOf(&evs[i])]++
	}
	return evs, truth
}

// fold applies the cap rule to exact counts independently of Levels.
func foldTruth(truth map[LevelKey]int64, limit int) map[LevelKey]int64 {
	var keys []LevelKey
	for k := range truth {
		if k.Instance != LevelsOther {
			keys = append(keys, k)
		}
	}
	out := map[LevelKey]int64{}
	for k, n := range truth {
		out[k] = n
	}
	if len(keys) <= limit {
		return out
	}
	// selection by sorting
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if compareLevelKeys(keys[j], keys[i]) < 0 {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	for _, k := range keys[limit:] {
		out[LevelKey{LevelsOther, k.Level}] += out[k]
		delete(out, k)
	}
	return out
}

func levelsMap(l *Levels) map[LevelKey]int64 {
	out := map[LevelKey]int64{}
	l.Each(func(k LevelKey, n int64) { out[k] = n })
	return out
}

// TestLevelsMergeLaws splits a stream over parts in different ways and
// orders and checks that every merge gives the exact (folded) counts and
// the same bytes.
func TestLevelsMergeLaws(t *testing.T) {
	for _, tc := range []struct {
		name             string
		limit, instances int
		parts, events    int
	}{
		{"exact", LevelsCap, 20, 5, 2000},
		{"single part", LevelsCap, 5, 1, 100},
		{"capped", 7, 30, 4, 1500},
		{"capped hard", 1, 50, 6, 600},
		{"empty", 5, 3, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			evs, truth := levelsEvents(r, tc.events, tc.instances)
			want := foldTruth(truth, tc.limit)
			parts := make([]*Levels, tc.parts)
			for i := range parts {
				parts[i] = newLevelsCap(tc.limit)
			}
			for i := range evs {
				parts[r.IntN(tc.parts)].Add(&evs[i])
			}
			// left fold, right fold, reversed order: all equal to the truth.
			left := newLevelsCap(tc.limit)
			for _, p := range parts {
				left.Merge(p.Clone())
			}
			right := parts[len(parts)-1].Clone()
			for i := len(parts) - 2; i >= 0; i-- {
				p := parts[i].Clone()
				p.Merge(right)
				right = p
			}
			whole := newLevelsCap(tc.limit)
			for i := len(evs) - 1; i >= 0; i-- {
				whole.Add(&evs[i])
			}
			var enc [][]byte
			for name, got := range map[string]*Levels{"left": left, "right": right, "whole": whole} {
				if m := levelsMap(got); !(len(m) == 0 && len(want) == 0) && !reflect.DeepEqual(m, want) {
					t.Errorf("%s: got %v, want %v", name, m, want)
				}
				b, _ := got.MarshalBinary()
				enc = append(enc, b)
			}
			for _, b := range enc[1:] {
				if !bytes.Equal(b, enc[0]) {
					t.Error("equal states encode differently")
				}
			}
			// identity
			id := left.Clone()
			id.Merge(newLevelsCap(tc.limit))
			id.Merge(nil)
			if !reflect.DeepEqual(levelsMap(id), levelsMap(left)) {
				t.Error("merge with identity changed the state")
			}
		})
	}
}

func TestLevelsCodec(t *testing.T) {
	for _, tc := range []struct {
		name string
		add  map[LevelKey]int64
	}{
		{"empty", nil},
		{"one", map[LevelKey]int64{{"db-1", "ERROR"}: 3}},
		{"many", map[LevelKey]int64{{"db-1", "ERROR"}: 3, {"db-1", "INFO"}: 1 << 40, {"-", "-"}: 1, {"héllo", "x|y"}: 7, {LevelsOther, "WARN"}: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLevels()
			for k, n := range tc.add {
				l.AddN(k, n)
			}
			d := roundTrip(t, l)
			if got := levelsMap(d); !reflect.DeepEqual(got, levelsMap(l)) {
				t.Fatalf("round trip: %v, want %v", got, levelsMap(l))
			}
			if d.limit != LevelsCap {
				t.Fatalf("decoded limit %d", d.limit)
			}
			checkTruncated(t, d, mustEncode(t, l))
			if err := d.UnmarshalBinary([]byte{9}); err == nil {
				t.Error("bad version: no error")
			}
		})
	}
}

func TestPaneLevels(t *testing.T) {
	p := NewPane(0)
	p.Add(&event.Event{Instance: "db-1", Level: "ERROR"})
	p.Add(&event.Event{Host: "web", Level: "INFO"})
	p.Add(&event.Event{Instance: "db-1", Level: "ERROR", ParseError: "bad"})
	p.AddTo(ViewLevels, &event.Event{Instance: "db-1", Level: "ERROR"})
	p.AddTo(ViewLevels, &event.Event{ParseError: "bad"})
	q := NewPane(0)
	b, err := p.Encode(ViewLevels)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Decode(ViewLevels, b); err != nil {
		t.Fatal(err)
	}
	q.Merge(p.Clone())
	want := map[LevelKey]int64{{"db-1", "ERROR"}: 4, {"web", "INFO"}: 2}
	if got := levelsMap(q.Levels); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	s := q.Summary(ViewLevels)
	if s["total"] != int64(6) || s["instances"] != 2 {
		t.Fatalf("summary %v", s)
	}
}
