package lake

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// BenchmarkStreamDemo is compaction's Parquet writer alone (Stream, the
// path every compacted row takes) over 100 k demo lines already parsed:
// what the writer costs a line, apart from Kafka and the parser (batch's
// BenchmarkCompact prints the whole pipeline beside pqarrow). Run with
//
//	go test ./batch/lake/ -run '^$' -bench StreamDemo -benchtime 5x
func BenchmarkStreamDemo(b *testing.B) {
	const n = 100_000
	start := time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC)
	g, err := gen.New(gen.Seed(7), gen.Rate(float64(n)/3600), gen.Start(start))
	if err != nil {
		b.Fatal(err)
	}
	rules, err := ingest.Spec{}.Parse()
	if err != nil {
		b.Fatal(err)
	}
	d := rules.NewDecoder()
	hdr := []kgo.RecordHeader{{Key: ingest.FormatHeader, Value: []byte("json")}}
	evs := make([]event.Event, n)
	for i := range evs {
		r := g.Next()
		d.Decode(&evs[i], &kgo.Record{Key: r.Key, Value: r.Line, Headers: hdr, Topic: "logs", Offset: int64(i), Timestamp: start})
	}
	l := tempLake(b)
	ctx := context.Background()
	b.ResetTimer()
	cpu := benchCPU()
	for i := 0; i < b.N; i++ {
		st, err := l.CreateStream(start, int32(i), 0)
		if err != nil {
			b.Fatal(err)
		}
		for j := range evs {
			if err := st.Append(&evs[j]); err != nil {
				b.Fatal(err)
			}
		}
		_, sz, err := st.Commit(ctx, 0, n-1)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(sz)/n, "file-B/line")
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(n)*float64(b.N)/(benchCPU()-cpu).Seconds(), "lines/cpu-s")
}

// benchCPU is the process's CPU time (user and system) so far: on a
// shared machine lines per CPU-second say what the writer costs.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
