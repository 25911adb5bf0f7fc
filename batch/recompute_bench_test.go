package batch

import (
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/objstore"
	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// benchDayRate is the generated day's rate of the recompute benchmark:
// 4 events/s, 345,600 events over 24 hours of event time (and 2,400 in
// the ten minutes after, which complete the day's last hour).
const benchDayRate = 4

// BenchmarkRecomputeDay recomputes the same generated day (24 complete
// hours, compacted once into each lake) from a local directory and from
// a real S3 server (SeaweedFS on loopback, through a cold cache: every
// hour's files downloaded), each into a fresh MongoDB database, in the
// same run. Issue 22 asks the S3 recompute to take at most twice the
// local one: the s3 line reports x-of-local (its time over the local
// one's) beside that limit. Metrics: seconds per hour of data, events
// per second. Run with
//
//	go test ./batch/ -run '^$' -bench RecomputeDay -benchtime 1x
func BenchmarkRecomputeDay(b *testing.B) {
	ctx := testkit.Context(b, 30*time.Minute)
	k := testkit.Kafka(b, "logs", 4)
	mc := testkit.MongoClient(b)
	srv := testkit.StartS3(b)
	srv.Bucket(b, "bench")
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	// The day and ten minutes more, so that its last hour is complete
	// (the partitions' event time past its end plus the lateness).
	const events = (24*3600 + 600) * benchDayRate
	g, err := gen.New(gen.Seed(7), gen.Rate(benchDayRate), gen.Start(day), gen.OutOfOrder(0), gen.Late(0))
	if err != nil {
		b.Fatal(err)
	}
	cl := testkit.KafkaClient(b, k.Addrs(), kgo.DefaultProduceTopic("logs"),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(5*time.Millisecond))
	hdr := []kgo.RecordHeader{{Key: ingest.FormatHeader, Value: []byte("json")}}
	recs := make([]*kgo.Record, 0, 10_000)
	for i := range events {
		r := g.Next()
		recs = append(recs, &kgo.Record{Key: r.Key, Value: r.Line, Headers: hdr})
		if len(recs) == cap(recs) || i == events-1 {
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	cl.Close()
	now := day.Add(25 * time.Hour)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := objstore.Open(ctx, "s3://bench/lake", objstore.S3Endpoint(srv.Endpoint))
	if err != nil {
		b.Fatal(err)
	}
	local := b.TempDir()
	run := 0
	// open returns a batch over the local lake or the bucket (through a
	// fresh, cold cache) writing into a fresh database.
	open := func(remote bool) (*Batch, *mongo.Database) {
		run++
		db := mc.Database(fmt.Sprintf("bench_%d", run))
		opts := []Opt{Now(func() time.Time { return now }), settings.Logger(logger)}
		if remote {
			c, err := objstore.NewCache(st, b.TempDir(), 0)
			if err != nil {
				b.Fatal(err)
			}
			opts = append(opts, LakeStore(st, c))
		}
		bt, err := New(db, k.Addrs(), local, opts...)
		if err != nil {
			b.Fatal(err)
		}
		return bt, db
	}
	for _, remote := range []bool{false, true} {
		bt, _ := open(remote)
		sum, err := bt.Compact(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Rows != events {
			b.Fatalf("compacted %d rows, produced %d", sum.Rows, events)
		}
	}
	// forget makes the lake's hours not recomputed again and drops the
	// miners' state, so that each iteration recomputes the whole day.
	forget := func(remote bool) {
		var l *lake.Lake
		var err error
		if remote {
			c, cerr := objstore.NewCache(st, b.TempDir(), 0)
			if cerr != nil {
				b.Fatal(cerr)
			}
			l, err = lake.OpenStore(st, c, "logs")
		} else {
			l, err = lake.Open(local, "logs")
		}
		if err != nil {
			b.Fatal(err)
		}
		m, err := l.LoadManifest(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, hs := range m.Hours {
			hs.Recomputed, hs.Dirty = time.Time{}, false
		}
		if err := l.SaveManifest(ctx, m); err != nil {
			b.Fatal(err)
		}
		if err := l.Store().Delete(ctx, "logs/"+patternsStateName); err != nil {
			b.Fatal(err)
		}
	}
	var localSecs float64
	for _, side := range []struct {
		name   string
		remote bool
	}{{"local-disk", false}, {"s3-cold-cache", true}} {
		b.Run(side.name, func(b *testing.B) {
			var secs float64
			for range b.N {
				b.StopTimer()
				forget(side.remote)
				bt, _ := open(side.remote)
				b.StartTimer()
				began := time.Now()
				sum, err := bt.Recompute(ctx)
				if err != nil {
					b.Fatal(err)
				}
				secs += time.Since(began).Seconds()
				if len(sum.Hours) != 24 {
					b.Fatalf("recomputed %d hours, want the day's 24", len(sum.Hours))
				}
			}
			per := secs / float64(b.N)
			b.ReportMetric(per/24, "s/hour-of-data")
			b.ReportMetric(24*3600*benchDayRate/per, "events/s")
			if side.remote {
				b.ReportMetric(per/localSecs, "x-of-local")
				b.ReportMetric(2, "x-limit")
			} else {
				localSecs = per
			}
		})
	}
}
