package batch

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// benchCompactEvents is the demo traffic a compaction benchmark reads: two
// hours at 100 events/s is 720 k; this is a bit more than a quarter of it,
// spread over the 4 partitions by the demo's keys and over two event-time
// hours, so each run writes 8 files as a backfill does.
const benchCompactEvents = 200_000

// BenchmarkCompact measures compaction of demo traffic (Kafka fetch,
// parse, Arrow, Parquet, rename, manifest) beside pqarrow alone writing
// the same rows, already parsed, as one file on one goroutine: the floor
// of the old design, in the same run. Run with
//
//	go test ./batch/ -run '^$' -bench Compact -benchtime 3x
func BenchmarkCompact(b *testing.B) {
	ctx := testkit.Context(b, 10*time.Minute)
	k := testkit.Kafka(b, "logs", 4)
	start := time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC)
	rate := float64(benchCompactEvents) / 3600 // one hour of event time
	g, err := gen.New(gen.Seed(7), gen.Rate(rate), gen.Start(start))
	if err != nil {
		b.Fatal(err)
	}
	cl := testkit.KafkaClient(b, k.Addrs(), kgo.DefaultProduceTopic("logs"),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(5*time.Millisecond))
	hdr := []kgo.RecordHeader{{Key: ingest.FormatHeader, Value: []byte("json")}}
	recs := make([]*kgo.Record, 0, benchCompactEvents)
	for range benchCompactEvents {
		r := g.Next()
		recs = append(recs, &kgo.Record{Key: r.Key, Value: r.Line, Headers: hdr})
	}
	for i := 0; i < len(recs); i += 10_000 {
		if err := cl.ProduceSync(ctx, recs[i:min(i+10_000, len(recs))]...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	cl.Close()
	now := start.Add(2 * time.Hour)

	// compact is the whole compaction (both cores: fetch, then per
	// partition a parse and a write goroutine); cores is its CPU-seconds
	// per wall second, about 2 on an idle 2-core machine when the
	// pipeline keeps both busy (on a shared one it says how much of the
	// machine the run got).
	compact := func(k *embedded.Kafka, topic string) func(b *testing.B) {
		return func(b *testing.B) {
			var rows int64
			cpu := cpuTime()
			alloc := allocated()
			for i := 0; i < b.N; i++ {
				bt, err := New(nil, k.Addrs(), b.TempDir(), settings.Topic(topic), Now(func() time.Time { return now }))
				if err != nil {
					b.Fatal(err)
				}
				sum, err := bt.Compact(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if sum.Rows != benchCompactEvents {
					b.Fatalf("compacted %d rows, produced %d", sum.Rows, benchCompactEvents)
				}
				rows += sum.Rows
			}
			used := (cpuTime() - cpu).Seconds()
			b.ReportMetric(float64(allocated()-alloc)/float64(rows), "B/line")
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(rows)/used, "lines/cpu-s")
			b.ReportMetric(used/b.Elapsed().Seconds(), "cores")
		}
	}
	b.Run("compact", compact(k, "logs"))
	// compact1p is the same records in a topic of one partition: one
	// worker, whose parse and write goroutines are what can use two cores.
	k1 := testkit.Kafka(b, "one", 1)
	cl = testkit.KafkaClient(b, k1.Addrs(), kgo.DefaultProduceTopic("one"),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(5*time.Millisecond))
	for i := 0; i < len(recs); i += 10_000 {
		batch := make([]*kgo.Record, 0, 10_000)
		for _, r := range recs[i:min(i+10_000, len(recs))] {
			batch = append(batch, &kgo.Record{Key: r.Key, Value: r.Value, Headers: r.Headers})
		}
		if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	cl.Close()
	b.Run("compact1p", compact(k1, "one"))

	dec, err := ingest.Spec{}.Parse()
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]event.Event, len(recs))
	d := dec.NewDecoder()
	for i, r := range recs {
		r.Topic = "logs"
		d.Decode(&evs[i], r)
	}

	// fetch is the Kafka read alone: the records of every partition
	// fetched as compaction's client fetches them, and dropped.
	b.Run("fetch", func(b *testing.B) {
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			offs := map[int32]kgo.Offset{}
			for p := range int32(4) {
				offs[p] = kgo.NewOffset().AtStart()
			}
			fc := testkit.KafkaClient(b, k.Addrs(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"logs": offs}),
				kgo.FetchMaxBytes(fetchMaxBytes), kgo.FetchMaxPartitionBytes(fetchMaxBytes/4))
			n := 0
			for n < benchCompactEvents {
				fs := fc.PollFetches(ctx)
				if err := fs.Err0(); err != nil {
					b.Fatal(err)
				}
				n += fs.NumRecords()
			}
			fc.Close()
		}
		b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.ReportMetric(float64(len(recs))*float64(b.N)/(cpuTime()-cpu).Seconds(), "lines/cpu-s")
	})

	// parse is the decoder alone over the same records, as a shard
	// calls it; stream is the lake's streamed writer alone (parquet-go)
	// writing the parsed rows as one file: compaction's two costs apart.
	b.Run("parse", func(b *testing.B) {
		var ev event.Event
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			for _, r := range recs {
				d.DecodeBorrowed(&ev, r)
			}
		}
		b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.ReportMetric(float64(len(recs))*float64(b.N)/(cpuTime()-cpu).Seconds(), "lines/cpu-s")
	})

	b.Run("stream", func(b *testing.B) {
		l, err := lake.Open(b.TempDir(), "logs")
		if err != nil {
			b.Fatal(err)
		}
		cpu := cpuTime()
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
			_, sz, err := st.Commit(ctx, 0, int64(len(evs)-1))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(sz), "file-bytes")
		}
		b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.ReportMetric(float64(len(evs))*float64(b.N)/(cpuTime()-cpu).Seconds(), "lines/cpu-s")
	})

	b.Run("pqarrow", func(b *testing.B) {
		l, err := lake.Open(b.TempDir(), "logs")
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			rb := event.NewRecordBuilder(nil)
			for j := range evs {
				rb.Append(&evs[j])
			}
			rec := rb.NewRecordBatch()
			sz, err := l.WriteFile(ctx, fmt.Sprintf("f%d.parquet", i), rec)
			b.ReportMetric(float64(sz), "file-bytes")
			rec.Release()
			rb.Release()
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.ReportMetric(float64(len(evs))*float64(b.N)/(cpuTime()-cpu).Seconds(), "lines/cpu-s")
	})
}

// allocated is the bytes the process allocated so far (the embedded
// broker's included, as in up): per line, what compaction gives the
// collector to do, a figure that does not depend on how busy the machine
// is.
func allocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// cpuTime is the CPU time (user and system) of the process so far: on a
// shared machine, lines per CPU-second say what a benchmark costs when
// wall time says mostly how busy the neighbours were.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
