package patterns

import (
	"testing"
	"time"
)

// BenchmarkMine measures inference on each Loghub sample (its 2k messages
// repeated) beside merely splitting the same messages into tokens, the
// limit for any tokenizing miner. Both report lines/s.
//
//	go test ./schemas/patterns/ -run '^$' -bench Mine -benchtime 2000000x
func BenchmarkMine(b *testing.B) {
	for _, ds := range loadLoghub(b) {
		msgs := ds.contents(b)
		b.Run(ds.name+"/split", func(b *testing.B) {
			var sc scratch
			n := 0
			start := time.Now()
			for i := 0; i < b.N; i++ {
				sc.split(msgs[i%len(msgs)])
				n += len(sc.toks)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lines/s")
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
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lines/s")
		})
	}
}
