package patterns

import (
	"testing"
	"time"
)

// BenchmarkMine measures inference on each Loghub sample (its 2k messages
// repeated) beside merely splitting the same messages into tokens, the
// limit for any tokenizing miner. Both report lines/s; mine also reports
// x-of-split, its rate as a share of the split rate measured just before
// in the same run (the aim is at least 0.5), when split ran.
//
//	go test ./schemas/patterns/ -run '^$' -bench Mine -cpu 1 -benchtime 2000000x
func BenchmarkMine(b *testing.B) {
	for _, ds := range loadLoghub(b) {
		msgs := ds.contents(b)
		var splitRate float64
		b.Run(ds.name+"/split", func(b *testing.B) {
			var sc scratch
			n := 0
			start := time.Now()
			for i := 0; i < b.N; i++ {
				sc.split(msgs[i%len(msgs)])
				n += len(sc.toks)
			}
			splitRate = float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(splitRate, "lines/s")
			if n == 0 {
				b.Fatal("no tokens")
			}
		})
		b.Run(ds.name+"/mine", func(b *testing.B) {
			m := NewMiner(Options{})
			b.ReportAllocs()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				m.Add(msgs[i%len(msgs)])
			}
			rate := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(rate, "lines/s")
			if splitRate > 0 {
				b.ReportMetric(rate/splitRate, "x-of-split")
			}
		})
	}
}
