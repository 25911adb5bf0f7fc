package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// batchDocs reads every batch document of db (views and their tiers)
// by collection and _id, without the time it was written nor its readable
// summary (a Go map's key order).
func batchDocs(t *testing.T, ctx context.Context, db *mongo.Database) map[string]bson.M {
	t.Helper()
	out := map[string]bson.M{}
	var colls []string
	for _, v := range views.Names {
		colls = append(colls, collections.BatchCollection(v), collections.TierCollection(v))
	}
	for _, coll := range colls {
		addStates(t, db.Collection(coll), out)
	}
	return out
}

// lakeRows returns the lake's rows and distinct (partition, offset) pairs,
// counted by `loglambda sql` (DuckDB over the Parquet files).
func lakeRows(t *testing.T, bin, lake string) string {
	t.Helper()
	out, err := testkit.Command(bin, "sql", "--lake", lake, "--format", "csv",
		`SELECT count(*) AS n, count(DISTINCT (partition, "offset")) AS d FROM logs`).CombinedOutput()
	if err != nil {
		t.Fatalf("sql over %s: %v\n%s", lake, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestBatchKills runs `loglambda batch run` (the built binary) over a
// topic that grows by a chunk of ten minutes of past traffic before each
// run, and kills the run with SIGKILL at a random moment (within the
// length of the last complete run, so kills land in compaction, pattern
// mining, recompute and the clusters tiers) until 20 runs were killed
// mid-work; then one run completes. The lake must hold every record once
// (rows = distinct offsets = records produced) and the batch documents
// must equal those of one run without kills over the same topic (another
// lake and database).
func TestBatchKills(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: batch killed 20 times")
	t.Parallel() // see "Parallel" in e2e_test.go
	const (
		kills    = 20
		rate     = 10           // events per second of event time
		chunk    = 10 * 60 * 10 // ten minutes of traffic per run
		chunks   = kills + 4
		interval = 10 * time.Minute
	)
	bin := buildBinary(t)
	ctx := testkit.Context(t, 20*time.Minute)
	_, kafkaAddr, mongoAddr := startStores(t, bin, filepath.Join(t.TempDir(), "data"), 4)
	uri := "mongodb://" + mongoAddr + "/"
	client := testkit.Client(t, uri)
	adm := kadm.NewClient(testkit.KafkaClient(t, []string{kafkaAddr}))
	dir := t.TempDir()
	// Whole hours, all complete well before now (grace 5 m): the set of
	// complete hours is the same for every run.
	start := time.Now().UTC().Truncate(time.Hour).Add(-time.Duration(chunks)*interval - 2*time.Hour)
	produce := func(k int) {
		t.Helper()
		out, err := testkit.Command(bin, "gen", "--brokers", kafkaAddr, "--rate", fmt.Sprint(rate), "--count", fmt.Sprint(chunk),
			"--seed", fmt.Sprint(k+1), "--late", "0.01", "--start", start.Add(time.Duration(k)*interval).Format(time.RFC3339)).CombinedOutput()
		if err != nil {
			t.Fatalf("gen chunk %d: %v\n%s", k, err, out)
		}
	}
	batchArgs := func(lake, db string) []string {
		return []string{"batch", "run", "--brokers", kafkaAddr, "--mongo-uri", uri, "--mongo-db", db, "--lake", lake}
	}
	run := newProc(t, "batch", bin, batchArgs(filepath.Join(dir, "lake"), "killed")...)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 4))
	last := 5 * time.Second // the length of the last complete run
	killed, completed, k := 0, 0, 0
	for killed < kills {
		if k < chunks {
			produce(k)
			k++
		}
		began := time.Now()
		run.start()
		delay := time.Duration(rng.Int64N(int64(last)))
		for time.Since(began) < delay && !run.exited() {
			time.Sleep(5 * time.Millisecond)
		}
		if run.exited() {
			last = time.Since(began)
			completed++
			if !strings.Contains(run.output(), `"recomputed"`) && completed > 40 {
				t.Fatalf("batch runs keep ending before their kill: %s", run.output())
			}
			continue
		}
		run.kill()
		killed++
		// Later kills land later in the runs (recompute, patterns, tiers):
		// the run just killed had more to do than the delay.
		last = min(last*5/4, 2*time.Minute)
		t.Logf("kill %d after %s (last complete run %s)", killed, delay.Round(time.Millisecond), last.Round(time.Millisecond))
	}
	for ; k < chunks; k++ {
		produce(k)
	}
	finish := func(p *proc) {
		t.Helper()
		p.start()
		// Its log grows while it works: 10 minutes without a line is a
		// stuck run, a slower one is waited for.
		testkit.Await(t, 10*time.Minute, p.name+" to finish", func() error {
			if p.exited() {
				return nil
			}
			return fmt.Errorf("running, %d bytes of log", len(p.output()))
		})
		if !strings.Contains(p.output(), "=== start") || p.cmd.ProcessState.ExitCode() != 0 {
			t.Fatalf("%s failed: %s", p.name, p.output())
		}
	}
	finish(run)
	ref := newProc(t, "reference", bin, batchArgs(filepath.Join(dir, "ref-lake"), "ref")...)
	began := time.Now()
	finish(ref)
	t.Logf("%d kills, %d runs completed among them; the reference run took %s", killed, completed, time.Since(began).Round(time.Millisecond))

	ends, err := adm.ListEndOffsets(ctx, "logs")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != int64(chunks*chunk) {
		t.Fatalf("topic holds %d records, want %d", total, chunks*chunk)
	}
	want := fmt.Sprintf("n,d\n%d,%d", total, total)
	for _, lake := range []string{"lake", "ref-lake"} {
		if got := lakeRows(t, bin, filepath.Join(dir, lake)); got != want {
			t.Errorf("%s: rows,distinct offsets %q, want %q", lake, got, want)
		}
	}
	refDocs, got := batchDocs(t, ctx, client.Database("ref")), batchDocs(t, ctx, client.Database("killed"))
	if len(refDocs) == 0 {
		t.Fatal("the reference run wrote no batch document")
	}
	bad := 0
	for id, r := range refDocs {
		g, ok := got[id]
		if !ok || !sameDoc(t, r, g) {
			t.Errorf("%s: differs after the kills (present: %v)", id, ok)
			if bad++; bad > 20 {
				t.Fatal("more than 20 documents differ")
			}
		}
	}
	for id := range got {
		if _, ok := refDocs[id]; !ok {
			t.Errorf("%s: only after the kills", id)
		}
	}
	t.Logf("%d records in both lakes, %d batch documents equal", total, len(refDocs))
}
