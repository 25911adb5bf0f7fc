package gen

import (
	"math/rand/v2"
	"net/netip"
	"regexp"
	"testing"
)

func TestOctet(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"connection refused to 10.0.3.", true},
		{"10.0.1.", true},
		{"from 10.0.1.", true},
		{"rows=", false},
		{"version 1.2.", false},
		{"in 1.2.3.4.", false},
		{"x 10..3.", false},
		{"", false},
	} {
		if got := octet(c.text); got != c.want {
			t.Errorf("octet(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

// TestFilledAddressesAreValid fills every template of the vocabulary many
// times: each dotted quad in a message must be a valid IPv4 address.
func TestFilledAddressesAreValid(t *testing.T) {
	quad := regexp.MustCompile(`\b\d+\.\d+\.\d+\.\d+\b`)
	r := rand.New(rand.NewPCG(1, 2))
	for _, set := range [][]string{dbInfo, dbWarn, dbError, burstErrors, web5xx} {
		for _, tm := range newTemplates(set) {
			for range 2000 {
				msg := tm.appendFill(nil, r)
				for _, a := range quad.FindAll(msg, -1) {
					if _, err := netip.ParseAddr(string(a)); err != nil {
						t.Fatalf("%q: %s is no IPv4 address", msg, a)
					}
				}
			}
		}
	}
}
