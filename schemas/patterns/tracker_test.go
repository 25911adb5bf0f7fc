package patterns

import (
	"fmt"
	"testing"
)

// TestTrackerAbsorptions feeds lines whose pattern generalises (a word
// place shows a third word) and checks that resolving every counted ID
// through the absorptions gives the miner's final counts.
func TestTrackerAbsorptions(t *testing.T) {
	tr := NewTracker(Options{})
	counted := map[ID]uint64{}
	to := map[ID]ID{}
	var lines []string
	for i := 0; i < 300; i++ {
		lines = append(lines,
			fmt.Sprintf("session opened for user %s by (uid=0)", []string{"alice", "bob", "carol", "dave"}[i%4]),
			fmt.Sprintf("Connection closed by 10.0.0.%d port %d", i%250, 1000+i),
			fmt.Sprintf("job %s finished in state %s", []string{"build", "test", "deploy"}[i%3], []string{"ok", "failed", "skipped", "ok"}[i%4]),
		)
	}
	for _, l := range lines {
		id, tmpl, abs := tr.Add([]byte(l))
		if tmpl == "" {
			t.Fatalf("no template for %q", l)
		}
		counted[id]++
		for _, a := range abs {
			to[a.From] = a.To
		}
	}
	resolve := func(id ID) ID {
		for i := 0; i < 64; i++ {
			n, ok := to[id]
			if !ok {
				return id
			}
			id = n
		}
		t.Fatalf("absorption cycle at %s", id)
		return id
	}
	got := map[ID]uint64{}
	for id, n := range counted {
		got[resolve(id)] += n
	}
	want := map[ID]uint64{}
	for _, p := range tr.Miner().Patterns() {
		want[p.ID] = p.Count
	}
	if len(got) != len(want) {
		t.Fatalf("resolved %d patterns %v, miner has %d %v", len(got), got, len(want), tr.Miner().Patterns())
	}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("pattern %s: resolved count %d, miner %d", id, got[id], n)
		}
	}
	if len(to) == 0 {
		t.Errorf("no absorption seen; the test lines should generalise")
	}
}

// TestSnapshotExact: a miner restored from a snapshot taken mid-stream
// mines the rest exactly as the miner that took it.
func TestSnapshotExact(t *testing.T) {
	var lines []string
	words := []string{"alpha", "bravo", "charlie", "delta"}
	for i := 0; i < 2000; i++ {
		lines = append(lines,
			fmt.Sprintf("job %s finished with status %s", words[i%3], []string{"ok", "failed"}[(i/3)%2]),
			fmt.Sprintf("cache miss for key %s", words[(i*7)%4]),
			fmt.Sprintf("connection from 10.1.%d.%d closed", i%7, i%250))
	}
	for _, cut := range []int{1, 5, 17, 400, 3000} {
		ref := NewMiner(Options{MaxPatterns: 50})
		var refIDs, gotIDs []ID
		for _, l := range lines {
			refIDs = append(refIDs, ref.AddString(l))
		}
		m := NewMiner(Options{MaxPatterns: 50})
		for _, l := range lines[:cut] {
			gotIDs = append(gotIDs, m.AddString(l))
		}
		r := NewMiner(Options{MaxPatterns: 50})
		if err := r.UnmarshalSnapshot(m.MarshalSnapshot()); err != nil {
			t.Fatal(err)
		}
		for _, l := range lines[cut:] {
			gotIDs = append(gotIDs, r.AddString(l))
		}
		for i := range refIDs {
			if refIDs[i] != gotIDs[i] {
				t.Fatalf("cut %d: line %d %q: id %s after restore, %s uninterrupted", cut, i, lines[i], gotIDs[i], refIDs[i])
			}
		}
		a, _ := ref.MarshalBinary()
		b, _ := r.MarshalBinary()
		if string(a) != string(b) {
			t.Fatalf("cut %d: final patterns differ", cut)
		}
	}
	for i := 0; i < len(snapshotMagic)+3; i++ {
		var m Miner
		if err := m.UnmarshalSnapshot([]byte(snapshotMagic + "\x05\x01\x09")[:i]); err == nil {
			t.Fatalf("truncated snapshot of %d bytes: no error", i)
		}
	}
}
