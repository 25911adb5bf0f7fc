package gen

import (
	"bytes"
	"testing"
	"time"
)

// TestBurstAt: a burst asked for starts at its time; without it the same
// seed has none starting there.
func TestBurstAt(t *testing.T) {
	at := DefaultStart.Add(3 * time.Minute)
	burstLines := func(opts ...Opt) (first time.Time, n int) {
		g, err := New(append([]Opt{Rate(50), Count(50 * 300), Seed(5)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		for !g.Done() {
			r := g.Next()
			if r.Time.Before(at.Add(-time.Second)) || !bytes.Contains(r.Line, []byte(`"level":"ERROR","msg":"connection refused to 10.0.3.`)) &&
				!bytes.Contains(r.Line, []byte(`"msg":"pool exhausted`)) && !bytes.Contains(r.Line, []byte(`"msg":"could not connect to server`)) {
				continue
			}
			if n == 0 {
				first = r.Time
			}
			n++
		}
		return first, n
	}
	first, n := burstLines(BurstAt(at))
	if n < 500 || first.Sub(at) > 5*time.Second {
		t.Errorf("with BurstAt(%s): %d burst lines from %s", at, n, first)
	}
	if first0, n0 := burstLines(); n0 > 0 && first0.Sub(at) <= 5*time.Second {
		t.Errorf("without BurstAt a burst starts at %s too: the test proves nothing", first0)
	}
}
