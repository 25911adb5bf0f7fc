package batch

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/exact"
)

// TestIDDict checks the dictionary's numbers against a Go map of the same
// strings: 300k strings (the table rebuilt eight times, the strings over
// several chunks, one longer than a chunk), saved, then some numbered and
// forgotten (a failed hour), numbered again from where the lake stops,
// and a dictionary read again from the lake numbering every string alike.
func TestIDDict(t *testing.T) {
	ctx := context.Background()
	l, err := lake.Open(t.TempDir(), "logs")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint32{}
	var d idDict
	add := func(s string) {
		set := exact.NewSet()
		d.add(set, s)
		if _, ok := want[s]; !ok {
			want[s] = uint32(len(want))
		}
		if set.Dict.GetCardinality() != 1 || !set.Dict.Contains(want[s]) {
			t.Fatalf("%q numbered %v, want %d", s, set.Dict.ToArray(), want[s])
		}
	}
	long := string(make([]byte, idChunk+10))
	for i := range 300_000 {
		add(fmt.Sprintf("user-%d", i))
		add(fmt.Sprintf("user-%d", i/2)) // numbered before
		if i == 150_000 {
			add(long)
		}
	}
	if err := d.save(ctx, l); err != nil {
		t.Fatal(err)
	}
	saved := len(want)
	// A failed hour: its numbers are dropped, and given again.
	for i := range 5000 {
		set := exact.NewSet()
		d.add(set, fmt.Sprintf("lost-%d", i))
	}
	d.forget()
	if d.len() != saved {
		t.Fatalf("after forget: %d numbers, want %d", d.len(), saved)
	}
	if _, ok := d.lookup("lost-7"); ok {
		t.Fatal("a forgotten string still has a number")
	}
	for i := range 1000 {
		add(fmt.Sprintf("after-%d", i))
		add(fmt.Sprintf("user-%d", i*97))
	}
	if err := d.save(ctx, l); err != nil {
		t.Fatal(err)
	}
	var again idDict
	if err := again.catchUp(ctx, l); err != nil {
		t.Fatal(err)
	}
	if again.len() != len(want) || d.len() != len(want) {
		t.Fatalf("numbers: %d and read again %d, want %d", d.len(), again.len(), len(want))
	}
	for s, n := range want {
		if got, ok := again.lookup(s); !ok || got != n {
			t.Fatalf("read again: %q numbered %d (%v), want %d", s, got, ok, n)
		}
		if got, ok := d.lookup(s); !ok || got != n {
			t.Fatalf("%q numbered %d (%v), want %d", s, got, ok, n)
		}
	}
}

// BenchmarkIDDictMemory prints the Go heap a dictionary of 2 M distinct
// 10-14 byte visitor ids holds, per id, beside a map[string]uint32 holding
// its own copy of each (what it was), and the time to number each.
func BenchmarkIDDictMemory(b *testing.B) {
	const n = 2_000_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("visitor%d", i*7919)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for _, c := range []struct {
		name string
		fill func() any
	}{
		{"dict", func() any {
			d := &idDict{}
			set := exact.NewSet()
			for _, s := range ids {
				d.add(set, s)
			}
			return d
		}},
		{"map", func() any {
			m := map[string]uint32{}
			for _, s := range ids {
				if _, ok := m[s]; !ok {
					m[strings.Clone(s)] = uint32(len(m)) // its own copy, as a string scanned from DuckDB
				}
			}
			return m
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var bytesPerID float64
			var took time.Duration
			for range b.N {
				before := heap()
				start := time.Now()
				kept := c.fill()
				took += time.Since(start)
				after := heap()
				bytesPerID = float64(after-before) / n
				runtime.KeepAlive(kept)
			}
			b.ReportMetric(bytesPerID, "heap-B/id")
			b.ReportMetric(float64(took.Nanoseconds())/float64(b.N)/n, "ns/id")
		})
	}
}
