package serving

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSpill checks that encodings written to a spill file read back
// equal, leave no file behind in the directory (unlinked at once), and
// stay in memory when the directory cannot take a file.
func TestSpill(t *testing.T) {
	enc := func() [][]byte {
		return [][]byte{[]byte("hot state"), nil, bytes.Repeat([]byte{7}, 1<<16), []byte("x")}
	}
	var warned []error
	warn := func(_ string, err error) { warned = append(warned, err) }
	tests := []struct {
		name    string
		dir     string
		spilled bool
	}{
		{"spill directory", t.TempDir(), true},
		{"no spill directory: memory", "", false},
		{"directory missing: memory, warned", filepath.Join(t.TempDir(), "missing"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			warned = nil
			want := enc()
			e := newEncoded(newSpiller(tc.dir, warn), enc(), nil)
			if got := e.file != nil; got != tc.spilled {
				t.Fatalf("spilled %v, want %v", got, tc.spilled)
			}
			for i := range want {
				b, err := e.bytes(i)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, want[i]) || e.size(i) != len(want[i]) {
					t.Errorf("view %d: %d bytes read back (size %d), want %d", i, len(b), e.size(i), len(want[i]))
				}
				if tc.spilled && want[i] != nil && e.views[i] != nil {
					t.Errorf("view %d still held in memory", i)
				}
			}
			if tc.dir != "" {
				if left, _ := os.ReadDir(tc.dir); len(left) != 0 {
					t.Errorf("%d files left in the spill directory, want none (unlinked)", len(left))
				}
			}
			if wantWarn := tc.dir != "" && !tc.spilled; (len(warned) > 0) != wantWarn {
				t.Errorf("warnings %v, want some: %v", warned, wantWarn)
			}
		})
	}
}
