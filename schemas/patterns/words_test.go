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
