package ship

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
)

const testTopic = "logs"

// startKafka starts an embedded broker with the test topic.
func startKafka(t testing.TB, partitions int32) *embedded.Kafka {
	t.Helper()
	return testkit.Kafka(t, testTopic, partitions)
}

// shipAll ships inputs to their end with a Shipper of opts, failing the
// test on an error, and returns the run's summary.
func shipAll(t testing.TB, addrs []string, opts []Opt, inputs ...string) Summary {
	t.Helper()
	s, err := New(addrs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sum, err := s.Run(context.Background(), inputs...)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// consumeAll reads every record of topic, up to the end offsets of the
// moment it is called, so that duplicates show.
func consumeAll(t testing.TB, addrs []string, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := testkit.KafkaClient(t, addrs, kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(64<<20))
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	var recs []*kgo.Record
	next := map[int32]int64{}
	for {
		done := true
		for p, end := range want {
			if next[p] < end {
				done = false
			}
		}
		if done {
			return recs
		}
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume %s: have %d records, offsets %v of %v: %v", topic, len(recs), next, want, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < want[r.Partition] {
				recs = append(recs, r)
			}
			next[r.Partition] = r.Offset + 1
		})
	}
}

// header returns a record header's value and whether it is there.
func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// writeFile writes lines, each ended by '\n', to a new file in dir.
func writeFile(t testing.TB, dir, name string, lines []string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// appendLines appends lines to path.
func appendTo(t testing.TB, path string, lines []string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

// checkExactlyOnce fails unless the record values are exactly want, each
// once (in any order across partitions).
func checkExactlyOnce(t testing.TB, recs []*kgo.Record, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, r := range recs {
		count[string(r.Value)]--
	}
	var bad []string
	for v, n := range count {
		if n != 0 {
			bad = append(bad, fmt.Sprintf("%q: %+d", clip(v), -n))
		}
	}
	if len(bad) > 0 || len(recs) != len(want) {
		if len(bad) > 10 {
			bad = bad[:10]
		}
		t.Fatalf("got %d records for %d lines; surplus(+)/missing(-): %s", len(recs), len(want), strings.Join(bad, ", "))
	}
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// waitRecords consumes until the topic holds at least n records.
func waitRecords(t testing.TB, addrs []string, n int) {
	t.Helper()
	cl := testkit.KafkaClient(t, addrs)
	defer cl.Close()
	testkit.Await(t, time.Minute, fmt.Sprintf("%d records in the topic", n), func() error {
		ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), testTopic)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
		if total < int64(n) {
			return fmt.Errorf("topic has %d records, want %d", total, n)
		}
		return nil
	})
}
