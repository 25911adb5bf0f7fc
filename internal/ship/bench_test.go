package ship

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkShip measures `ship` from a file to the embedded broker beside a
// bare franz-go producer sending the same lines (already in memory, same
// headers, same producer settings) in the same run: the difference is the
// shipper's own cost (reading, line splitting, acknowledgement tracking,
// key parsing when keyed).
//
//	go test -run '^$' -bench Ship -benchtime 3x ./internal/ship
func BenchmarkShip(b *testing.B) {
	const n = 100_000
	gen := genAccess(n, true, 0)
	lines := make([]string, n)
	var size int
	for i, l := range gen {
		lines[i] = l.text
		size += len(l.text) + 1
	}
	path := writeFile(b, b.TempDir(), "access.log", lines)
	for _, key := range []string{"", "ip"} {
		b.Run(fmt.Sprintf("key=%q", key), func(b *testing.B) {
			k := startKafka(b, 4)
			var shipDur, rawDur time.Duration
			iters := 0
			b.SetBytes(int64(size))
			for b.Loop() {
				iters++
				t0 := time.Now()
				if sum := shipAll(b, k.Addrs(), []Opt{Key(key)}, path); sum.Acked != n {
					b.Fatalf("ship: acked %d of %d", sum.Acked, n)
				}
				shipDur += time.Since(t0)

				t1 := time.Now()
				if err := rawProduce(k.Addrs(), lines, key != "", path); err != nil {
					b.Fatal(err)
				}
				rawDur += time.Since(t1)
			}
			b.ReportMetric(float64(n*iters)/shipDur.Seconds(), "ship-lines/s")
			b.ReportMetric(float64(n*iters)/rawDur.Seconds(), "raw-lines/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// rawProduce sends lines with a bare kgo producer configured like the
// shipper's, keyed by the JSON ip field when keyed (from the generator, not
// parsed), and waits for every acknowledgement.
func rawProduce(addrs []string, lines []string, keyed bool, source string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.DefaultProduceTopic(testTopic),
		kgo.ProducerLinger(DefaultLinger), kgo.MaxBufferedRecords(DefaultMaxBufferedRecords),
		kgo.MaxBufferedBytes(DefaultMaxBufferedBytes))
	if err != nil {
		return err
	}
	defer cl.Close()
	headers := []kgo.RecordHeader{{Key: "format", Value: []byte("json")}, {Key: "source", Value: []byte(source)}}
	ctx := context.Background()
	var firstErr error
	failed := make(chan error, 1)
	for i, l := range lines {
		r := &kgo.Record{Value: []byte(l), Headers: headers}
		if keyed {
			r.Key = []byte(fmt.Sprintf("10.0.%d.%d", i%7, i%13))
		}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case failed <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	select {
	case firstErr = <-failed:
	default:
	}
	return firstErr
}
