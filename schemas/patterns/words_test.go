package patterns

import (
	"strings"
	"testing"
)

func TestWordTable(t *testing.T) {
	for _, w := range timeWords {
		title := strings.ToUpper(w[:1]) + w[1:]
		if !timeWord([]byte(title)) || !timeWord([]byte(strings.ToUpper(w))) {
			t.Errorf("%q: not a time word", title)
		}
		if timeWord([]byte(w)) {
			t.Errorf("%q in lower case is a time word", w)
		}
		if unitWord([]byte(title)) {
			t.Errorf("%q is a unit", title)
		}
	}
	for _, w := range unitWords {
		for _, v := range []string{w, strings.ToUpper(w), strings.ToUpper(w[:1]) + w[1:]} {
			if !unitWord([]byte(v)) {
				t.Errorf("%q: not a unit", v)
			}
			if timeWord([]byte(v)) {
				t.Errorf("%q is a time word", v)
			}
		}
	}
	tests := []struct {
		word       string
		time, unit bool
	}{
		{"", false, false},
		{"Mayo", false, false},
		{"kbs", false, false},
		{"Septembers", false, false},
		{"SEPTEMBEr", true, false},
		{"Wednesdax", false, false},
		{"\x05", false, false},
		{"%%", false, false},
		{"the", false, false},
		{"K", false, false},
		{"Jan.", false, false},
	}
	for _, tt := range tests {
		if got := timeWord([]byte(tt.word)); got != tt.time {
			t.Errorf("timeWord(%q) = %v, want %v", tt.word, got, tt.time)
		}
		if got := unitWord([]byte(tt.word)); got != tt.unit {
			t.Errorf("unitWord(%q) = %v, want %v", tt.word, got, tt.unit)
		}
	}
}

// TestToLower8 checks every byte value at every position against the
// byte-at-a-time rule, with other bytes around it.
func TestToLower8(t *testing.T) {
	lower := func(c byte) byte {
		if c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			for _, fill := range []byte{0, 'Q', 0xff, '@', '['} {
				var in, want [8]byte
				for k := range in {
					in[k], want[k] = fill, lower(fill)
				}
				in[pos], want[pos] = byte(c), lower(byte(c))
				got := toLower8(load8(in[:]))
				if got != load8(want[:]) {
					t.Fatalf("toLower8(% x) = %016x, want % x", in, got, want)
				}
			}
		}
	}
}

// TestLoad8 checks the one-load path (bytes past the slice in its array)
// against the byte loop (no bytes past it), for slices shorter than eight
// bytes and longer (the first eight).
func TestLoad8(t *testing.T) {
	buf := []byte("abcdefghijklmnopqrstuvwx")
	for s := 0; s <= 8; s++ {
		for n := 0; n <= 12; n++ {
			long := buf[s : s+n]     // cap reaches past n
			short := make([]byte, n) // cap is n
			copy(short, long)
			if a, b := load8(long), load8(short); a != b {
				t.Errorf("load8(%q): %016x with the array after it, %016x without", long, a, b)
			}
			var want uint64
			for k := 0; k < min(n, 8); k++ {
				want |= uint64(long[k]) << (8 * k)
			}
			if a := load8(long); a != want {
				t.Errorf("load8(%q) = %016x, want %016x", long, a, want)
			}
		}
	}
}
