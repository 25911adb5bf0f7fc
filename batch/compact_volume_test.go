package batch

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// TestCompactVolume compacts 300 k records of demo traffic (six hours of
// event time, out of order and late as the demo makes them, keyed over
// four partitions) in two runs, the second while the first run's last
// hours are still open, and reads the lake back with DuckDB: one row per
// produced record, the raw line of every (partition, offset) byte for byte,
// every row in the directory of its event hour, and after the merge of
// finished hours one file per (hour, partition).
func TestCompactVolume(t *testing.T) {
	testkit.SkipShort(t, "volume")
	ctx := testkit.Context(t, 10*time.Minute)
	s := newStack(t)
	const n = 300_000
	g, err := gen.New(gen.Seed(11), gen.Rate(n/(6*3600.0)), gen.Start(base))
	if err != nil {
		t.Fatal(err)
	}
	cl := testkit.KafkaClient(t, s.brokers, kgo.DefaultProduceTopic("logs"))
	defer cl.Close()
	hdr := []kgo.RecordHeader{{Key: ingest.FormatHeader, Value: []byte("json")}}
	produce := func(count int) {
		recs := make([]*kgo.Record, 0, count)
		for range count {
			r := g.Next()
			recs = append(recs, &kgo.Record{Key: r.Key, Value: r.Line, Headers: hdr})
		}
		res := cl.ProduceSync(ctx, recs...)
		if err := res.FirstErr(); err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			s.produced[fmt.Sprintf("%d/%d", r.Record.Partition, r.Record.Offset)] = r.Record.Value
		}
	}
	s.now = base.Add(6*time.Hour + 30*time.Minute)
	var rows int64
	for _, part := range []int{n * 2 / 3, n / 3} {
		produce(part)
		sum, err := s.batch().Compact(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("compacted %d records into %d files (merged %d into %d) in %.1fs", sum.Records, sum.FilesWritten, sum.FilesMerged, sum.MergedFiles, sum.Seconds)
		if sum.Records != int64(part) || sum.Rows != int64(part) {
			t.Fatalf("run read %d records, wrote %d rows; produced %d", sum.Records, sum.Rows, part)
		}
		rows += sum.Rows
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(s.lakeDir, "logs", "*", "*", "*.parquet")
	q := fmt.Sprintf(`SELECT "partition", "offset", raw,
		dt::VARCHAR = strftime(ts AT TIME ZONE 'UTC', '%%Y-%%m-%%d') AND hour::INTEGER = hour(ts AT TIME ZONE 'UTC')
		FROM read_parquet('%s', hive_partitioning = true) ORDER BY "partition", "offset"`, glob)
	cur, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	seen := map[string]bool{}
	var got, wrongRaw, wrongDir int
	for cur.Next() {
		var p int32
		var off int64
		var raw []byte
		var inHour bool
		if err := cur.Scan(&p, &off, &raw, &inHour); err != nil {
			t.Fatal(err)
		}
		got++
		k := fmt.Sprintf("%d/%d", p, off)
		if seen[k] {
			t.Fatalf("offset %s twice in the lake", k)
		}
		seen[k] = true
		if !bytes.Equal(raw, s.produced[k]) {
			wrongRaw++
		}
		if !inHour {
			wrongDir++
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if got != len(s.produced) || rows != int64(got) {
		t.Fatalf("lake has %d rows, summaries %d, produced %d records", got, rows, len(s.produced))
	}
	if wrongRaw != 0 || wrongDir != 0 {
		t.Fatalf("%d rows with a raw line other than the produced one, %d in another hour's directory", wrongRaw, wrongDir)
	}
	// Finished hours hold one file per partition (the last hours are not
	// finished: their files wait for the next runs).
	m := s.manifest()
	hours, files := m.HourFiles()
	for _, h := range hours {
		if !finished(m, h, DefaultGrace) {
			continue
		}
		per := map[int32]int{}
		for _, f := range files[h] {
			per[f.Partition]++
		}
		for p, c := range per {
			if c != 1 {
				t.Errorf("hour %s partition %d: %d files after the merge, want 1", h.Format(time.RFC3339), p, c)
			}
		}
	}
}
