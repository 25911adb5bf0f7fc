package patterns

import (
	"strings"
	"testing"
)

// trickyWords are tokens at the edges of the rules: units and time words
// in every case, literals, quotes, key=value forms, punctuation only.
var trickyWords = []string{
	"a", "ab", "KB", "kb", "Kb", "sec", "SEC", "%", "\x05", "s", "h", "b", "Jan", "jan", "JAN", "May", "may",
	"September", "Wednesday", "wednesday", "SEPTEMBER", "Septembers", "true", "True", "tRue", "TRUE", "null",
	"Null", "NULL", "nil", "Nil", "None", "none", "false", "FALSE", "12", "0x1f", "1.2.3.4:80", "(uid=0)",
	"uid=0", "user=root", "k=", `tag="View`, `Lock",`, `"GET`, "/a/b", `HTTP/1.1"`, `""`, "()", "[]", "(x)",
	"((", "--", "depth.....0", "a:=1", "org.a.B", "a.b.c", "a.b.C_D", "x://y", `C:\x`, "~/x", "./x", "../x",
	"@", "[Jan]", "(KB)", `"True"`, "'sec',", "minute.", "mins;", "hrs!",
	"4|9|12", "3/10", "a/b.c", "node-12", "CPU#0", "#7", "Pool$E@5f3", "u0", "ssh2", "1,", "2", "(4.35", "KB)",
	"bytes", "(0=idle,1=busy)", "h-1/10.0.0.1:80", "db.x.internal", "org.a.Bc.D", "(", ")", "2017-07-08", "10:00:00", "1-2",
}

// TestShapeKeyAgrees checks the fast path against the slow one: for every
// message, the key shapeKey computes in one pass is the hash of the units
// tokenize keeps. Generated messages mix the tricky words at random, so
// that runs of time words, units after variables and collapsing variables
// meet in every order.
func TestShapeKeyAgrees(t *testing.T) {
	var msgs []string
	r := uint64(1)
	next := func() uint64 {
		r = r*6364136223846793005 + 1442695040888963407
		return r >> 33
	}
	for n := 0; n < 50000; n++ {
		words := make([]string, 1+next()%12)
		for i := range words {
			words[i] = trickyWords[next()%uint64(len(trickyWords))]
		}
		msgs = append(msgs, strings.Join(words, " "))
	}
	long := strings.Repeat("Jan 5 KB ", maxTokens) // past the token cap
	msgs = append(msgs, "", " ", long, long[:len(long)-4], strings.Repeat("x ", maxTokens)+"Jan")
	for n := maxTokens - quoteSpan - 4; n < maxTokens; n++ {
		// A quoted value that the token cap cuts, or nearly.
		msgs = append(msgs, strings.Repeat("x ", n)+`k="a b c" d`, strings.Repeat("x ", n)+`k="a`+strings.Repeat(" b", quoteSpan)+`"`)
	}
	checkKeys(t, msgs)
}

// TestShapeKeyAgreesLoghub is TestShapeKeyAgrees on the Loghub samples,
// messages and whole lines.
func TestShapeKeyAgreesLoghub(t *testing.T) {
	var msgs []string
	for _, ds := range loadLoghub(t) {
		for _, m := range ds.contents(t) {
			msgs = append(msgs, string(m))
		}
		for _, l := range ds.lines {
			msgs = append(msgs, string(l))
		}
	}
	checkKeys(t, msgs)
}

func checkKeys(t *testing.T, msgs []string) {
	t.Helper()
	var sc scratch
	for _, msg := range msgs {
		got := sc.shapeKey([]byte(msg))
		sc.tokenize([]byte(msg))
		if want := keyHash([]byte(msg), sc.units); got != want {
			t.Fatalf("shapeKey(%q) = %x, keyHash of its units %+v = %x", msg, got, sc.units, want)
		}
	}
}
