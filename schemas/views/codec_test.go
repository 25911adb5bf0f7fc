package views

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/patterns"
)

// mustEncode encodes s, failing the test on an error.
func mustEncode(t *testing.T, s state) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roundTrip encodes v and decodes the bytes into a new value of v's type.
func roundTrip[T any, P interface {
	*T
	state
}](t *testing.T, v P) P {
	t.Helper()
	d := P(new(T))
	if err := d.UnmarshalBinary(mustEncode(t, v)); err != nil {
		t.Fatal(err)
	}
	return d
}

// fingerprint is what a state holds, to compare two states: its encoding,
// except for traffic, whose sketches encode their sparse sets in map
// order (equal sketches need not encode to equal bytes), so there the
// counters and the two cardinalities.
func fingerprint(t *testing.T, s state) string {
	t.Helper()
	if tr, ok := s.(*Traffic); ok {
		return fmt.Sprint(tr.PV, tr.HasExact, tr.ExactUV, tr.ExactIPs, tr.Status, tr.Bytes, tr.Latency, tr.LatencySum, tr.UVCount(), tr.IPCount())
	}
	return string(mustEncode(t, s))
}

// checkTruncated decodes every proper prefix of data into into: each must
// be an error, never a panic, and leave into as it was, which is what
// every UnmarshalBinary promises.
func checkTruncated(t *testing.T, into state, data []byte) {
	t.Helper()
	before := fingerprint(t, into)
	for i := range len(data) {
		if err := into.UnmarshalBinary(data[:i]); err == nil {
			t.Errorf("truncated at %d of %d: no error", i, len(data))
		}
		if fingerprint(t, into) != before {
			t.Fatalf("truncated at %d of %d: the state changed", i, len(data))
		}
	}
}

// codecPane fills a pane with n events that reach every view, patterns
// included.
func codecPane(n int) *Pane {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(7, 2))
	p := NewPane(50)
	p.Clusters = NewClusters(DefaultClusterSpec(), start)
	evs := clusterEvents(7, n, start)
	terms := zipfTerms(7, n, 500)
	for i := range evs {
		ev := &evs[i]
		ev.Instance = fmt.Sprintf("db-%d", r.IntN(5))
		if ev.Level == "" {
			ev.Level = []string{"INFO", "WARN", "ERROR"}[r.IntN(3)]
		}
		ev.HotTerm = terms[i]
		ev.User = fmt.Sprintf("u%d", r.IntN(300))
		ev.IP = fmt.Sprintf("10.0.%d.%d", r.IntN(4), r.IntN(256))
		ev.Status = []int32{200, 200, 200, 304, 404, 503}[r.IntN(6)]
		ev.Partition, ev.Offset = int32(i%3), int64(i)
		p.Add(ev)
		k := i % 7
		p.Patterns.Add(patterns.ID(k+1), fmt.Sprintf("job <*> step %d", k), ev, fmt.Appendf(nil, "job %d step %d", i, k))
	}
	return p
}

// TestPaneCodecs: every view's state decodes, through Pane.Encode and
// Pane.Decode, to one that holds the same (see fingerprint), and every
// truncation of it is an error that leaves the target as it was.
func TestPaneCodecs(t *testing.T) {
	p := codecPane(5000)
	for _, view := range Names {
		t.Run(view, func(t *testing.T) {
			enc, err := p.Encode(view)
			if err != nil {
				t.Fatal(err)
			}
			q := NewPane(50)
			if err := q.Decode(view, enc); err != nil {
				t.Fatal(err)
			}
			src, err := p.state(view)
			if err != nil {
				t.Fatal(err)
			}
			got, err := q.state(view)
			if err != nil {
				t.Fatal(err)
			}
			if fingerprint(t, got) != fingerprint(t, src) {
				t.Fatalf("the decoded state differs from the encoded one")
			}
			checkTruncated(t, got, enc)
		})
	}
	if _, err := p.Encode("nope"); err == nil {
		t.Error("Encode of an unknown view: no error")
	}
	if err := p.Decode("nope", nil); err == nil {
		t.Error("Decode of an unknown view: no error")
	}
}

// TestPaneWithoutPatterns: a pane without a patterns state encodes an
// empty one without keeping it, and decoding makes one.
func TestPaneWithoutPatterns(t *testing.T) {
	p := &Pane{}
	enc, err := p.Encode(ViewPatterns)
	if err != nil {
		t.Fatal(err)
	}
	if p.Patterns != nil {
		t.Fatal("Encode made a patterns state")
	}
	src := NewPatterns()
	src.Add(1, "a <*>", patEvent(0, 1, 1, "h", "INFO"), []byte("a 1"))
	if err := p.Decode(ViewPatterns, mustEncode(t, src)); err != nil {
		t.Fatal(err)
	}
	if p.Patterns == nil || p.Patterns.Get(1) == nil || p.Patterns.Get(1).Count != 1 {
		t.Fatalf("decoded patterns state %+v, want the one pattern", p.Patterns)
	}
	if empty := mustEncode(t, NewPatterns()); !bytes.Equal(enc, empty) {
		t.Errorf("a pane without patterns encodes %x, want an empty state's %x", enc, empty)
	}
}
