package batch

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// TestCompactStall: a broker that answers no fetch for longer than the
// idle timeout in the middle of a run (up's embedded broker on a saturated
// machine) ends the run with what it read, without error; the next run
// reads on, and the lake holds every produced record exactly once.
func TestCompactStall(t *testing.T) {
	ctx := testkit.Context(t, 5*time.Minute)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()

	// 100 k demo records, ~24 MB uncompressed: several fetches of
	// fetchMaxBytes.
	const n = 100_000
	g, err := gen.New(gen.Seed(5), gen.Rate(n/3600.0), gen.Start(base))
	if err != nil {
		t.Fatal(err)
	}
	cl := testkit.KafkaClient(t, brokers, kgo.DefaultProduceTopic("logs"), kgo.ProducerBatchCompression(kgo.NoCompression()))
	hdr := []kgo.RecordHeader{{Key: ingest.FormatHeader, Value: []byte("json")}}
	produced := map[string][]byte{}
	recs := make([]*kgo.Record, 0, n)
	for range n {
		r := g.Next()
		recs = append(recs, &kgo.Record{Key: r.Key, Value: r.Line, Headers: hdr})
	}
	res := cl.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		produced[fmt.Sprintf("%d/%d", r.Record.Partition, r.Record.Offset)] = r.Record.Value
	}
	cl.Close()

	// The second fetch request waits three idle timeouts in the broker.
	const idle = 3 * time.Second
	var fetches atomic.Int32
	c.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if fetches.Add(1) == 2 {
			time.Sleep(3 * idle)
		}
		return nil, nil, false
	})

	lakeDir := t.TempDir()
	now := base.Add(2 * time.Hour)
	compact := func(opts ...Opt) CompactSummary {
		b, err := New(nil, brokers, lakeDir, append([]Opt{Now(func() time.Time { return now })}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := b.Compact(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	first := compact(withIdle(idle))
	if first.Rows == 0 || first.Rows >= n {
		t.Fatalf("the stalled run wrote %d rows of %d: want some, not all", first.Rows, n)
	}
	second := compact() // the default idle timeout
	if first.Rows+second.Rows != n || second.Records != second.Rows {
		t.Fatalf("runs wrote %d + %d rows (read %d), produced %d", first.Rows, second.Rows, second.Records, n)
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := fmt.Sprintf(`SELECT "partition", "offset", raw FROM read_parquet('%s')`, filepath.Join(lakeDir, "logs", "*", "*", "*.parquet"))
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var p int32
		var off int64
		var raw []byte
		if err := rows.Scan(&p, &off, &raw); err != nil {
			t.Fatal(err)
		}
		k := fmt.Sprintf("%d/%d", p, off)
		if seen[k] || !bytes.Equal(raw, produced[k]) {
			t.Fatalf("record %s twice (%v) or not the produced line", k, seen[k])
		}
		seen[k] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("lake holds %d records, produced %d", len(seen), n)
	}
	t.Logf("stalled run %d rows, next run %d", first.Rows, second.Rows)
}
