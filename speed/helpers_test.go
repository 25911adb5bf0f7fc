package speed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

const testTopic = "logs"

// stack is an embedded Kafka broker and MongoDB server for one test.
type stack struct {
	kafka  *embedded.Kafka
	client *mongo.Client
}

func startStack(tb testing.TB, partitions int32) *stack {
	tb.Helper()
	return &stack{kafka: testkit.Kafka(tb, testTopic, partitions), client: testkit.MongoClient(tb)}
}

func (st *stack) db(name string) *mongo.Database { return st.client.Database(name) }

// produce writes the lines to their partitions, in order, in record
// batches of at most batch records (Kafka hands out whole batches, so small
// ones make a consumer take many polls), and checks that each landed at the
// offset the expectations assume.
func (st *stack) produce(tb testing.TB, lines [][]genLine, batch int) {
	tb.Helper()
	st.produceFrom(tb, lines, batch, 0)
}

// produceFrom is produce for lines that start at offset from in every
// partition (the second part of a stream).
func (st *stack) produceFrom(tb testing.TB, lines [][]genLine, batch int, from int64) {
	tb.Helper()
	cl := testkit.KafkaClient(tb, st.kafka.Addrs(), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.MaxBufferedRecords(1<<20))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var recs []*kgo.Record
	for _, ls := range lines {
		for _, l := range ls {
			r := &kgo.Record{Partition: l.partition, Value: l.value, Timestamp: l.ingest}
			if l.format != "" {
				r.Headers = []kgo.RecordHeader{{Key: "format", Value: []byte(l.format)}}
			}
			recs = append(recs, r)
		}
	}
	var res kgo.ProduceResults
	for len(recs) > 0 {
		n := min(batch, len(recs))
		rs := cl.ProduceSync(ctx, recs[:n]...)
		if err := rs.FirstErr(); err != nil {
			tb.Fatal(err)
		}
		res = append(res, rs...)
		recs = recs[n:]
	}
	next := map[int32]int64{}
	for p := range lines {
		next[int32(p)] = from
	}
	for _, r := range res {
		if r.Record.Offset != next[r.Record.Partition] {
			tb.Fatalf("partition %d: record at offset %d, want %d", r.Record.Partition, r.Record.Offset, next[r.Record.Partition])
		}
		next[r.Record.Partition]++
	}
}

// quietLogger drops info logs so test output stays readable.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// runToEnd runs s until every partition of want (partition -> last
// offset) is applied and checkpointed, then stops it gracefully.
func runToEnd(tb testing.TB, s *Speed, want map[int32]int64) {
	tb.Helper()
	runToEndWithin(tb, s, want, 2*time.Minute)
}

// runToEndWithin is runToEnd failing when s's Stats have not moved for
// stall (testkit.Await): a loaded machine's slower progress is waited for.
func runToEndWithin(tb testing.TB, s *Speed, want map[int32]int64, stall time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-done
		}
	}()
	testkit.Await(tb, stall, "speed to apply and checkpoint every partition", func() error {
		select {
		case err := <-done:
			stopped = true
			tb.Fatalf("Run ended early: %v", err)
		default:
		}
		if st := s.Stats(); !caughtUp(st, want) {
			return fmt.Errorf("not caught up: %+v", st)
		}
		return nil
	})
	cancel()
	stopped = true
	if err := <-done; err != nil {
		tb.Fatalf("Run: %v", err)
	}
}

func caughtUp(st Stats, want map[int32]int64) bool {
	n := 0
	for _, p := range st.Partitions {
		if w, ok := want[p.Partition]; ok && p.Checkpointed >= w {
			n++
		}
	}
	return n == len(want)
}

// lastOffsets is partition -> last offset of the generated lines.
func lastOffsets(lines [][]genLine) map[int32]int64 {
	m := map[int32]int64{}
	for p, ls := range lines {
		m[int32(p)] = int64(len(ls)) - 1
	}
	return m
}

// storedPane is one (pane, partition) as stored: both views decoded.
type storedPane struct {
	pane    *views.Pane
	offsets map[string]int64
}

// readPanes reads every speed document of db, keyed by "pane|pN".
func readPanes(tb testing.TB, db *mongo.Database) map[string]*storedPane {
	tb.Helper()
	out := map[string]*storedPane{}
	for _, view := range views.Names {
		for _, d := range testkit.All[collections.Doc](tb, db.Collection(collections.SpeedCollection(view))) {
			key := strings.TrimPrefix(d.ID, view+"|")
			sp := out[key]
			if sp == nil {
				sp = &storedPane{pane: views.NewPane(0), offsets: map[string]int64{}}
				out[key] = sp
			}
			if err := sp.pane.Decode(view, d.State); err != nil {
				tb.Fatalf("decode %s: %v", d.ID, err)
			}
			sp.offsets[view] = d.Offset
		}
	}
	return out
}

// readCheckpoints reads the checkpoints of db by partition.
func readCheckpoints(tb testing.TB, db *mongo.Database) map[int32]collections.Checkpoint {
	tb.Helper()
	out := map[int32]collections.Checkpoint{}
	for _, c := range testkit.All[collections.Checkpoint](tb, db.Collection(collections.CheckpointCollection)) {
		out[c.Partition] = c
	}
	return out
}

var errCrash = errors.New("crash between documents and checkpoint")

// skipVolume skips a volume test in -short and under the race detector
// (see raceOn).
func skipVolume(t *testing.T) {
	t.Helper()
	if testing.Short() || raceOn {
		t.Skip("volume: not in -short, nor under the race detector")
	}
}
