package patterns

import (
	"fmt"
	"testing"
)

// TestSnapshotExact: a miner restored from a snapshot taken mid-stream
// mines the rest exactly as the miner that took it.
func TestSnapshotExact(t *testing.T) {
	var lines []string
	words := []string{"alpha", "bravo", "charlie", "delta"}
	for i := 0; i < 2000; i++ {
		lines = append(lines,
			fmt.Sprintf("job %s finished with status %s", words[i%3], []string{"ok", "failed"}[(i/3)%2]),
			fmt.Sprintf("cache miss for key %s", words[(i*7)%4]),
			fmt.Sprintf("connection from 10.1.%d.%d closed", i%7, i%250),
			// Punctuation kept, a unit and a numbered name shown until
			// they vary (eth1 from line 1500 on): every unit kind.
			fmt.Sprintf("[instance: %x] took %d ms (%d) via eth%d", i, i%90, i%3, i/1500))
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
