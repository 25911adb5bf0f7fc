package formats

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestParseInt holds parseInt's fast path to strconv.ParseInt, which it
// was: the same number, the same absence ("-") and an error exactly when
// strconv gives one, for both widths, at the edges of int32 and int64,
// signs, spaces, underscores, other digits, and random digit strings.
func TestParseInt(t *testing.T) {
	in := []string{"", "-", "0", "00", "007", "5", "-5", "+5", "- 5", " 5", "5 ", "1_000", "0x10", "1e3", "1.5", "abc", "٣",
		"2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296",
		"999999999999999999", "1000000000000000000", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "18446744073709551616", strings.Repeat("9", 40)}
	r := rand.New(rand.NewPCG(5, 6))
	for range 20_000 {
		b := make([]byte, 1+r.IntN(21))
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		in = append(in, string(b))
	}
	for _, text := range in {
		for _, bits := range []int{32, 64} {
			n, ok, err := parseInt("status", "status", text, bits)
			want, werr := strconv.ParseInt(text, 10, bits)
			switch {
			case text == "-":
				if ok || err != nil {
					t.Fatalf("parseInt(%q, %d) = %d, %v, %v; want absent", text, bits, n, ok, err)
				}
			case (werr == nil) != (err == nil) || err == nil && (!ok || n != want):
				t.Fatalf("parseInt(%q, %d) = %d, %v, %v; strconv %d, %v", text, bits, n, ok, err, want, werr)
			}
		}
	}
}

// TestParseFloat holds the hand-read decimals to strconv.ParseFloat: the
// same bits (negative zero included) and the same success, over random
// decimals of 1-18 digits with the point anywhere, signs, and texts with
// one byte changed.
func TestParseFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	check := func(s string) {
		t.Helper()
		got, err := parseFloat(s)
		want, werr := strconv.ParseFloat(s, 64)
		if (err == nil) != (werr == nil) || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseFloat(%q) = %v, %v; strconv: %v, %v", s, got, err, want, werr)
		}
	}
	for _, s := range []string{"0", "-0", "0.0", "-0.0", "1.", ".5", "-", "", ".", "1e3", "inf", "NaN", "0x1p-2", "1_0",
		"123.4", "299.9", "999999999999999", "9999999999999999", "0.000000000000001", "00012.5", "1..2", "-.5", "+1"} {
		check(s)
	}
	for range 50_000 {
		n := 1 + r.IntN(18)
		b := make([]byte, 0, n+2)
		if r.IntN(4) == 0 {
			b = append(b, '-')
		}
		dot := r.IntN(n + 1)
		for i := range n {
			if i == dot && r.IntN(2) == 0 {
				b = append(b, '.')
			}
			b = append(b, byte('0'+r.IntN(10)))
		}
		check(string(b))
		b[r.IntN(len(b))] = "0123456789.-+eE"[r.IntN(15)]
		check(string(b))
	}
}
