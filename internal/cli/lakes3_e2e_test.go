package cli

import (
	"database/sql"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/objstore"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/serving"
	"github.com/loglambda/loglambda/serving/lakesql"
)

// TestLakeS3EndToEnd runs up's stack with its lake in a real S3 server
// (SeaweedFS): `loglambda batch compact` processes writing the bucket are
// killed with SIGKILL at spread moments, a last one completes the lake,
// and then
//   - the bucket, downloaded with a plain S3 client and read by DuckDB as
//     a Hive layout (a Spark-style reader), holds every produced record
//     exactly once;
//   - up's server and a second server on another data directory (its own
//     cache, the same bucket) answer the same exact UV, equal to the count
//     made here from the generated lines.
func TestLakeS3EndToEnd(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: starts SeaweedFS, Kafka, MongoDB, builds the binary")
	srv := testkit.StartS3(t)
	srv.Bucket(t, "lake")
	bin := buildBinary(t)
	const rate = 5.0 // 3 h: 54 000 events
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	batchNow := t0.Add(2*time.Hour + 30*time.Minute) // hours 0 and 1 complete
	horizon := t0.Add(2 * time.Hour)
	location := "s3://lake/prod"
	st, ctx, web := startStack(t, upConfig{partitions: 4, batchNow: func() time.Time { return batchNow },
		lake: lakeFlags{location: location, endpoint: srv.Endpoint, cacheSize: "1GiB"}})

	recs := sendGenerated(t, ctx, st, 7, rate, t0, int64(3*3600*rate))
	want := newExpectation(t, recs)

	// Compactions killed at spread moments: before, while and after files
	// go up, around the manifest's put. Each leaves the lease of a process
	// that is gone, which the next one takes over at once.
	compact := []string{"batch", "compact", "--lake", location, "--s3-endpoint", srv.Endpoint,
		"--lake-cache", filepath.Join(t.TempDir(), "cache"), "--brokers", strings.Join(st.kafka.Addrs(), ","),
		"--mongo-uri", st.mongoSrv.URI(), "--topic", "logs", "--format", "json", "--hot-term", "param:q,Input",
		"--pane", "1m", "--lateness", "2m"}
	killed := 0
	for i, after := range []time.Duration{300 * time.Millisecond, 900 * time.Millisecond, 1500 * time.Millisecond, 2500 * time.Millisecond, 4 * time.Second} {
		cmd := testkit.Command(bin, compact...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Logf("compaction %d ended before its kill at %s (%v): %s", i, after, err, lastLine(out.String()))
		case <-time.After(after):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			killed++
			t.Logf("compaction %d killed after %s", i, after)
		}
	}
	if killed == 0 {
		t.Fatal("no compaction was killed: the test did not test a crash")
	}
	if out, err := testkit.Command(bin, compact...).CombinedOutput(); err != nil {
		t.Fatalf("compaction after the kills: %v\n%s", err, out)
	}
	sum, err := st.batch.Run(ctx)
	if err != nil {
		t.Fatalf("batch run: %v", err)
	}
	if sum.Compact.Records != 0 {
		t.Errorf("the run after the completing compaction read %d more records", sum.Compact.Records)
	}

	// The bucket as a Spark-style reader sees it.
	mirror := t.TempDir()
	srv.Mirror(t, "lake", "prod/logs/", filepath.Join(mirror, "logs"))
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, distinct int64
	glob := filepath.Join(mirror, "logs", "*", "*", "*.parquet")
	if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*), count(DISTINCT ("partition", "offset"))
		FROM read_parquet('%s', hive_partitioning = true)`, glob)).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != int64(len(recs)) || distinct != rows {
		t.Fatalf("bucket holds %d rows (%d distinct offsets), produced %d", rows, distinct, len(recs))
	}

	// Exact UV before the horizon, from up's server and from a second
	// server on another data directory reading the same bucket.
	if err := st.serving.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	store, err := objstore.Open(ctx, location, objstore.S3Endpoint(srv.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	cache, err := objstore.NewCache(store, filepath.Join(t.TempDir(), "other-data", "lake-cache"), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	second, err := serving.New(st.db, serving.Topic("logs"), serving.Pane(time.Minute), serving.Lake(location),
		serving.SQL(lakesql.Remote(store, cache)))
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	web2 := httptest.NewServer(second.Handler())
	defer web2.Close()
	for _, r := range []struct{ from, to time.Time }{{t0, horizon}, {t0.Add(time.Hour), horizon}} {
		_, uv, ips, _ := want.counts(r.from, r.to)
		for name, base := range map[string]string{"up": web.URL, "second serve": web2.URL} {
			var tr trafficAnswer
			getJSON(t, base, "/v1/traffic?step=1h&"+rangeQuery(r.from, r.to), &tr)
			if !tr.Exact || tr.Total.UV != uv || tr.Total.IPs != ips {
				t.Errorf("%s %s..%s: exact %v uv %d ips %d, want exact %d %d", name, r.from, r.to, tr.Exact, tr.Total.UV, tr.Total.IPs, uv, ips)
			}
		}
	}
	// The exact answers came from batch's exact sets in the bucket: no
	// Parquet file was fetched to count rows (the DuckDB fallback fetches
	// the queried hours' files only: serving/lakesql's hours_test.go).
	if s := cache.Stats(); s.Misses != 0 {
		t.Errorf("the second server fetched %d objects (%+v), want none: the exact sets answer", s.Misses, s)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}
