package views

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/axiomhq/hyperloglog"

	"github.com/loglambda/loglambda/schemas/event"
)

// TestTrafficCounterMatchesMerge checks the counter against the library's
// own merge and estimate (Traffic.Merge into NewMergeTraffic, UVCount,
// IPCount): sparse and dense states, empty ones, and a batch state with
// exact counts alone or among others, must give the same figures exactly.
func TestTrafficCounterMatchesMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	state := func(n, users int, dense, exact bool) *Traffic {
		tr := NewTraffic()
		for range n {
			ev := event.Event{User: fmt.Sprintf("u%d", r.IntN(users)), IP: fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(250), r.IntN(250))}
			tr.Add(&ev)
		}
		if dense {
			tr.Densify()
		}
		if exact {
			tr.ExactUV, tr.ExactIPs, tr.HasExact = 12345, 678, true
		}
		return tr
	}
	for _, tt := range []struct {
		name  string
		parts []*Traffic
	}{
		{"none", nil},
		{"one empty", []*Traffic{NewTraffic()}},
		{"one exact among empties", []*Traffic{NewTraffic(), state(500, 300, false, true), NewTraffic()}},
		{"two exact", []*Traffic{state(500, 300, false, true), state(800, 3000, true, true)}},
		{"sparse", []*Traffic{state(100, 50, false, false), state(300, 1000, false, false), state(2000, 100000, false, false)}},
		{"dense", []*Traffic{state(5000, 4000, true, false), state(6000, 100000, true, false), state(3000, 2000, true, false)}},
		{"mixed", []*Traffic{state(5000, 4000, true, false), state(30, 20, false, false), NewTraffic(), state(20000, 1000000, true, false), state(900, 900, false, false)}},
		{"a register past exactSumMax", func() []*Traffic {
			tr := state(5000, 4000, true, false)
			tr.UV.InsertHash(5 << 50) // register 5 takes 51: the sum in the library's order
			return []*Traffic{tr, state(300, 300, false, false)}
		}()},
		{"many dense", func() (out []*Traffic) {
			for range 15 {
				out = append(out, state(3000, 50000, true, false))
			}
			return out
		}()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			acc := NewMergeTraffic()
			var c TrafficCounter
			c.Add(NewTraffic()) // the counter is reused: Reset must forget this
			c.Add(state(100, 100, true, false))
			c.Reset()
			for _, p := range tt.parts {
				acc.Merge(p)
				c.Add(p)
			}
			pv, uv, ips := c.Counts()
			if pv != acc.PV || uv != acc.UVCount() || ips != acc.IPCount() {
				t.Fatalf("counter pv %d uv %d ips %d, merge pv %d uv %d ips %d", pv, uv, ips, acc.PV, acc.UVCount(), acc.IPCount())
			}
			// The same from the states' prepared registers, which must
			// leave the states as they were.
			var before [][]byte
			for _, p := range tt.parts {
				b, _ := p.MarshalBinary()
				before = append(before, b)
			}
			c.Reset()
			for _, p := range tt.parts {
				c.AddPrepared(p, PrepareTraffic(p))
			}
			if pv2, uv2, ips2 := c.Counts(); pv2 != pv || uv2 != uv || ips2 != ips {
				t.Fatalf("prepared: pv %d uv %d ips %d, want %d %d %d", pv2, uv2, ips2, pv, uv, ips)
			}
			// And without the states whose registers are all prepared
			// (Whole: both sketches sparse), as serving counts a sealed
			// pane it holds encoded.
			c.Reset()
			wholes := 0
			for _, p := range tt.parts {
				r := PrepareTraffic(p)
				if sparse := isSparse(p.UV) && isSparse(p.IPs); r.Whole() != sparse {
					t.Fatalf("Whole %v for a state whose sketches are sparse: %v", r.Whole(), sparse)
				}
				if r.PV() != p.PV {
					t.Fatalf("prepared PV %d, want %d", r.PV(), p.PV)
				}
				if r.Whole() {
					p = nil
					wholes++
				}
				c.AddPrepared(p, r)
			}
			if pv2, uv2, ips2 := c.Counts(); pv2 != pv || uv2 != uv || ips2 != ips {
				t.Fatalf("prepared alone: pv %d uv %d ips %d, want %d %d %d", pv2, uv2, ips2, pv, uv, ips)
			}
			if tt.name == "sparse" && wholes != len(tt.parts) {
				t.Fatalf("%d of %d sparse states counted alone", wholes, len(tt.parts))
			}
			for i, p := range tt.parts {
				if b, _ := p.MarshalBinary(); !bytes.Equal(b, before[i]) {
					t.Fatalf("state %d changed by PrepareTraffic", i)
				}
			}
		})
	}
}

// isSparse reports whether the library holds sk sparse (its encoding's
// flag; the test's sparse states are far below maxPairs registers).
func isSparse(sk *hyperloglog.Sketch) bool {
	b, err := sk.MarshalBinary()
	return err == nil && len(b) > 3 && b[3] == 1
}

// BenchmarkTrafficCount merges 15 dense one-minute states (a 15-minute
// bucket) and estimates their union, with the counter and with the
// library's merge beside it.
func BenchmarkTrafficCount(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	var parts []*Traffic
	for range 15 {
		tr := NewTraffic()
		for range 6000 {
			ev := event.Event{User: fmt.Sprintf("u%d", r.IntN(200000)), IP: fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(250), r.IntN(250))}
			tr.Add(&ev)
		}
		tr.Densify()
		parts = append(parts, tr)
	}
	b.Run("counter", func(b *testing.B) {
		var c TrafficCounter
		for b.Loop() {
			c.Reset()
			for _, p := range parts {
				c.Add(p)
			}
			c.Counts()
		}
	})
	b.Run("sparse-prepared", func(b *testing.B) {
		var small []*Traffic
		var regs []*TrafficRegs
		for i := range 15 {
			tr := NewTraffic()
			for j := range 300 {
				ev := event.Event{User: fmt.Sprintf("u%d-%d", i, j), IP: fmt.Sprintf("10.1.%d.%d", i, j%250)}
				tr.Add(&ev)
			}
			small, regs = append(small, tr), append(regs, PrepareTraffic(tr))
		}
		var c TrafficCounter
		for b.Loop() {
			c.Reset()
			for i, p := range small {
				c.AddPrepared(p, regs[i])
			}
			c.Counts()
		}
	})
	b.Run("merge", func(b *testing.B) {
		for b.Loop() {
			acc := NewMergeTraffic()
			for _, p := range parts {
				acc.Merge(p)
			}
			acc.UVCount()
			acc.IPCount()
		}
	})
}
