package batch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/objstore"
	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/testkit"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/exact"
	"github.com/loglambda/loglambda/schemas/views"
)

// stack is one test's Kafka, MongoDB and lake.
type stack struct {
	t       *testing.T
	brokers []string
	db      *mongo.Database
	lakeDir string
	now     time.Time
	// produced maps "p/offset" to the line, for checking raw.
	produced map[string][]byte
	// s3, when set, holds the lake: lakeDir is then s3://<bucket>/lake
	// and store and cache are batch's (LakeStore).
	s3     *testkit.S3
	bucket string
	store  objstore.Store
	cache  *objstore.Cache
}

// newS3Stack is newStack with the lake in a bucket of a real S3 server
// (SeaweedFS), for the lake's tests repeated on S3.
func newS3Stack(t *testing.T, opts ...objstore.Opt) *stack {
	t.Helper()
	srv := testkit.StartS3(t)
	s := newStack(t)
	s.s3, s.bucket = srv, "lake"
	srv.Bucket(t, s.bucket)
	s.lakeDir = "s3://" + s.bucket + "/lake"
	var err error
	if s.store, err = objstore.Open(testkit.Context(t, time.Minute), s.lakeDir, append([]objstore.Opt{objstore.S3Endpoint(srv.Endpoint)}, opts...)...); err != nil {
		t.Fatal(err)
	}
	if s.cache, err = objstore.NewCache(s.store, t.TempDir(), 1<<30); err != nil {
		t.Fatal(err)
	}
	return s
}

// mirror downloads the S3 lake's topic into a fresh directory, with the
// S3 client rather than the lake's code, as a Spark-style reader of the
// bucket's Hive layout would; it returns the lake root there.
func (s *stack) mirror() string {
	s.t.Helper()
	root := s.t.TempDir()
	s.s3.Mirror(s.t, s.bucket, "lake/logs/", filepath.Join(root, "logs"))
	return root
}

func newStack(t *testing.T) *stack {
	t.Helper()
	k := testkit.Kafka(t, "logs", 4)
	mc := testkit.MongoClient(t)
	return &stack{t: t, brokers: k.Addrs(), db: mc.Database("loglambda"), lakeDir: t.TempDir(),
		// Three hours of history from base, now 10 minutes past them.
		now: base.Add(3*time.Hour + 10*time.Minute), produced: map[string][]byte{}}
}

func (s *stack) produce(ctx context.Context, recs []genRecord) {
	s.t.Helper()
	cl := testkit.KafkaClient(s.t, s.brokers, kgo.DefaultProduceTopic("logs"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	krs := make([]*kgo.Record, len(recs))
	for i := range recs {
		krs[i] = &kgo.Record{Value: recs[i].line, Partition: recs[i].partition, Timestamp: recs[i].ingest}
	}
	res := cl.ProduceSync(ctx, krs...)
	if err := res.FirstErr(); err != nil {
		s.t.Fatal(err)
	}
	for _, r := range res {
		s.produced[fmt.Sprintf("%d/%d", r.Record.Partition, r.Record.Offset)] = r.Record.Value
	}
}

func (s *stack) batch(opts ...Opt) *Batch {
	s.t.Helper()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts = append([]Opt{Now(func() time.Time { return s.now }), settings.Logger(logger)}, opts...)
	if s.store != nil {
		opts = append(opts, LakeStore(s.store, s.cache))
	}
	b, err := New(s.db, s.brokers, s.lakeDir, opts...)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// duck runs a query over the whole lake with DuckDB, independently of the
// manifest: a glob, as a notebook would.
func (s *stack) duck(ctx context.Context, q string, dest ...any) {
	s.t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	root := s.lakeDir
	if s.s3 != nil {
		root = s.mirror()
	}
	glob := filepath.Join(root, "logs", "*", "*", "*.parquet")
	q = strings.ReplaceAll(q, "LAKE", fmt.Sprintf("read_parquet('%s', hive_partitioning = true)", glob))
	if err := db.QueryRowContext(ctx, q).Scan(dest...); err != nil {
		s.t.Fatalf("%s: %v", q, err)
	}
}

var fileName = regexp.MustCompile(`^dt=2026-11-20/hour=(07|08|09|10)/p[0-3]-[0-9]+-[0-9]+\.parquet$`)

// lakeFiles lists the Parquet files on disk, relative to the topic dir.
func (s *stack) lakeFiles() []string {
	s.t.Helper()
	var out []string
	if s.s3 != nil {
		for _, k := range s.s3.Keys(s.t, s.bucket, "lake/logs/") {
			if strings.HasSuffix(k, ".parquet") {
				out = append(out, strings.TrimPrefix(k, "lake/logs/"))
			}
		}
		sort.Strings(out)
		return out
	}
	dir := filepath.Join(s.lakeDir, "logs")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// openLake opens the stack's lake as batch does.
func (s *stack) openLake() *lake.Lake {
	s.t.Helper()
	var l *lake.Lake
	var err error
	if s.store != nil {
		l, err = lake.OpenStore(s.store, s.cache, "logs")
	} else {
		l, err = lake.Open(s.lakeDir, "logs")
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return l
}

// manifest is the lake's manifest as saved.
func (s *stack) manifest() *lake.Manifest {
	s.t.Helper()
	m, err := s.openLake().LoadManifest(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

// checkLake checks the lake against everything produced: one row per
// record, raw lines byte for byte, parse errors kept, files named by the
// contract and exactly those of the manifest.
func (s *stack) checkLake(ctx context.Context, wantParseErrors int64) {
	s.t.Helper()
	files := s.lakeFiles()
	m := s.manifest()
	var inManifest []string
	for _, f := range m.Files {
		inManifest = append(inManifest, f.Path)
		if !fileName.MatchString(f.Path) {
			s.t.Errorf("file %s does not follow dt=YYYY-MM-DD/hour=HH/p<partition>-<first>-<last>.parquet", f.Path)
		}
	}
	if !reflect.DeepEqual(files, inManifest) {
		s.t.Fatalf("files on disk %v\n != manifest %v", files, inManifest)
	}
	var rows, distinct, parseErrors, rawMismatch int64
	s.duck(ctx, `SELECT count(*), count(DISTINCT ("partition", "offset")), count(*) FILTER (WHERE parse_error <> '') FROM LAKE`,
		&rows, &distinct, &parseErrors)
	if rows != int64(len(s.produced)) || distinct != rows {
		s.t.Fatalf("lake has %d rows (%d distinct offsets), produced %d records", rows, distinct, len(s.produced))
	}
	if parseErrors != wantParseErrors {
		s.t.Errorf("lake has %d parse errors, generated %d malformed lines", parseErrors, wantParseErrors)
	}
	// Raw lines: compare all of them through one string aggregate.
	keys := make([]string, 0, len(s.produced))
	for k := range s.produced {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s=%s\n", k, s.produced[k])
	}
	var got string
	s.duck(ctx, `SELECT string_agg("partition" || '/' || "offset" || '=' || decode(raw), chr(10) ORDER BY ("partition" || '/' || "offset")) || chr(10) FROM LAKE`, &got)
	if got != sb.String() {
		rawMismatch = 1
	}
	if rawMismatch != 0 {
		s.t.Fatalf("raw lines in the lake differ from the produced lines")
	}
	// Hive columns agree with the event time of every row.
	var wrongHour int64
	s.duck(ctx, `SELECT count(*) FILTER (WHERE dt::VARCHAR <> strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d') OR hour::INTEGER <> hour(ts AT TIME ZONE 'UTC')) FROM LAKE`, &wrongHour)
	if wrongHour != 0 {
		s.t.Errorf("%d rows sit in the wrong dt=/hour= directory", wrongHour)
	}
}

// docs reads every document of a collection as raw BSON, for before/after
// comparisons.
func (s *stack) docs(ctx context.Context, coll string) map[string]string {
	s.t.Helper()
	cur, err := s.db.Collection(coll).Find(ctx, bson.D{})
	if err != nil {
		s.t.Fatal(err)
	}
	defer cur.Close(ctx)
	out := map[string]string{}
	for cur.Next(ctx) {
		out[cur.Current.Lookup("_id").StringValue()] = cur.Current.String()
	}
	return out
}

// checkViews compares the batch documents with panes the test computed
// from the input: every pane of the complete hours [from, to) and no
// other document.
func (s *stack) checkViews(ctx context.Context, recs []genRecord, from, to time.Time) {
	s.t.Helper()
	want := expectPanes(recs, from, to)
	got := map[time.Time]*views.Pane{}
	for _, view := range views.Names {
		for _, d := range testkit.All[collections.Doc](s.t, s.db.Collection(collections.BatchCollection(view))) {
			pane := d.Pane.UTC()
			if d.ID != collections.DocID(view, pane, collections.BatchPartition) || d.Partition != -1 || d.Offset != -1 || !d.PaneEnd.Equal(pane.Add(time.Minute)) {
				s.t.Errorf("doc %s: id/partition/offset/pane_end = %s/%d/%d/%s", d.ID, d.ID, d.Partition, d.Offset, d.PaneEnd)
			}
			p := got[pane]
			if p == nil {
				p = views.NewPane(0)
				got[pane] = p
			}
			if err := p.Decode(view, d.State); err != nil {
				s.t.Fatalf("doc %s: %v", d.ID, err)
			}
		}
	}
	if len(got) != len(want) {
		s.t.Errorf("%d panes in batch docs, want %d (hours %s-%s)", len(got), len(want), from.Format("15:04"), to.Format("15:04"))
	}
	for t, e := range want {
		g := got[t]
		if g == nil {
			s.t.Errorf("pane %s: no batch docs", t.Format(time.RFC3339))
			continue
		}
		gotTerms := map[string]int64{}
		for _, tc := range g.Hot.Top(0) {
			gotTerms[tc.Term] = tc.Count
		}
		if !reflect.DeepEqual(gotTerms, e.terms) || !g.Hot.Exact() {
			s.t.Errorf("pane %s hot: got %v (exact %v), want %v", t.Format(time.RFC3339), gotTerms, g.Hot.Exact(), e.terms)
		}
		gotLevels := map[string]int64{}
		g.Levels.Each(func(k views.LevelKey, n int64) { gotLevels[k.Instance+"/"+k.Level] = n })
		if !reflect.DeepEqual(gotLevels, e.levels) {
			s.t.Errorf("pane %s levels: got %v, want %v", t.Format(time.RFC3339), gotLevels, e.levels)
		}
		gt, wt := g.Traffic, e.pane.Traffic
		if gt.PV != wt.PV || !gt.HasExact || gt.ExactUV != int64(len(e.uv)) || gt.ExactIPs != int64(len(e.ips)) {
			s.t.Errorf("pane %s traffic: pv %d uv %d ips %d exact %v, want pv %d uv %d ips %d",
				t.Format(time.RFC3339), gt.PV, gt.ExactUV, gt.ExactIPs, gt.HasExact, wt.PV, len(e.uv), len(e.ips))
		}
		if gt.Status != wt.Status || gt.Bytes != wt.Bytes || gt.Latency != wt.Latency || gt.LatencySum != wt.LatencySum {
			s.t.Errorf("pane %s traffic: status %v bytes %d latency %v sum %v, want %v %d %v %v", t.Format(time.RFC3339),
				gt.Status, gt.Bytes, gt.Latency, gt.LatencySum, wt.Status, wt.Bytes, wt.Latency, wt.LatencySum)
		}
		// The sketches hold the same ids as speed's would.
		if gt.UV.Estimate() != wt.UV.Estimate() || gt.IPs.Estimate() != wt.IPs.Estimate() {
			s.t.Errorf("pane %s sketches: uv %d ips %d, want %d %d", t.Format(time.RFC3339),
				gt.UV.Estimate(), gt.IPs.Estimate(), wt.UV.Estimate(), wt.IPs.Estimate())
		}
	}
	s.checkExactSets(ctx, want)
}

// checkExactSets checks that recompute kept each hour's exact sets in the
// lake: every pane's and the hour's visitors and IPs as many as counted
// over the records.
func (s *stack) checkExactSets(ctx context.Context, want map[time.Time]*expected) {
	s.t.Helper()
	l := s.openLake()
	type hourIDs struct{ uv, ips map[string]bool }
	hours := map[time.Time]*hourIDs{}
	for t, e := range want {
		h := t.Truncate(time.Hour)
		if hours[h] == nil {
			hours[h] = &hourIDs{map[string]bool{}, map[string]bool{}}
		}
		maps.Copy(hours[h].uv, e.uv)
		maps.Copy(hours[h].ips, e.ips)
	}
	for h, ids := range hours {
		data, err := l.LoadState(ctx, exact.Name(h))
		if err != nil || data == nil {
			s.t.Fatalf("exact sets of %s: %v, %d bytes", h.Format(time.RFC3339), err, len(data))
		}
		eh, err := exact.Decode(data)
		if err != nil {
			s.t.Fatal(err)
		}
		if eh.HourUV.Len() != int64(len(ids.uv)) || eh.HourIPs.Len() != int64(len(ids.ips)) {
			s.t.Errorf("exact sets of %s: uv %d ips %d, want %d %d", h.Format(time.RFC3339), eh.HourUV.Len(), eh.HourIPs.Len(), len(ids.uv), len(ids.ips))
		}
		for i, p := range eh.Panes {
			e := want[time.Unix(p, 0).UTC()]
			if e == nil || eh.UV[i].Len() != int64(len(e.uv)) || eh.IPs[i].Len() != int64(len(e.ips)) {
				s.t.Errorf("exact sets of pane %s: uv %d ips %d, want %v", time.Unix(p, 0).UTC().Format(time.RFC3339), eh.UV[i].Len(), eh.IPs[i].Len(), e)
			}
		}
	}
}

func (s *stack) horizon(ctx context.Context) collections.HorizonDoc {
	s.t.Helper()
	var d collections.HorizonDoc
	if err := s.db.Collection(collections.MetaCollection).FindOne(ctx, bson.D{{Key: "_id", Value: "horizon|logs"}}).Decode(&d); err != nil {
		s.t.Fatal(err)
	}
	return d
}

func malformed(recs []genRecord) (n int64) {
	for _, r := range recs {
		if r.malformed {
			n++
		}
	}
	return n
}

// TestBatch runs the layer end to end: compact, merge, recompute,
// idempotence, a crashed compaction, late data into a recomputed hour.
func TestBatch(t *testing.T) {
	testBatch(t, newStack(t))
}

// TestBatchS3 is TestBatch with the lake in S3: the same commits, crash
// and late data, the lake read back from the bucket.
func TestBatchS3(t *testing.T) {
	testkit.SkipShort(t, "starts SeaweedFS")
	testBatch(t, newS3Stack(t))
}

// TestBatchS3Emulated is TestBatch on S3 with the server's conditional
// writes not used (--s3-conditional off): what a server without them
// gets, the conditions emulated under the lease.
func TestBatchS3Emulated(t *testing.T) {
	testkit.SkipShort(t, "starts SeaweedFS")
	s := newS3Stack(t, objstore.S3Conditional(objstore.ConditionalOff))
	if !objstore.Emulated(s.store) {
		t.Fatal("--s3-conditional off: the store uses the server's conditional writes")
	}
	testBatch(t, s)
}

func testBatch(t *testing.T, s *stack) {
	ctx := testkit.Context(t, 4*time.Minute)
	end := base.Add(3 * time.Hour)
	all := generate(1, 3000, base, end)
	// Stream A up to 09:10 first, the rest later: hour 08 then gets a
	// second small file per partition (B's late lines), which is merged.
	var a, b []genRecord
	for _, r := range all {
		if r.ingest.Before(base.Add(2*time.Hour + 10*time.Minute)) {
			a = append(a, r)
		} else {
			b = append(b, r)
		}
	}
	late08 := generate(2, 40, base.Add(time.Hour), base.Add(2*time.Hour))
	for i := range late08 {
		late08[i].ingest = base.Add(2*time.Hour + 30*time.Minute)
		if late08[i].malformed || late08[i].noTime {
			late08[i].at = late08[i].ingest
		}
	}
	b = append(b, late08...)
	all = append(all, late08...)
	// Partition 0 is still being written at 10:09, its event time behind:
	// hour 09 is complete by the clock but not by event time.
	still := lagging(base.Add(2*time.Hour+50*time.Minute), s.now.Add(-time.Minute))
	b = append(b, still)
	all = append(all, still)

	t.Run("compact", func(t *testing.T) {
		s.t = t
		s.produce(ctx, a)
		sum, err := s.batch().Compact(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Records != int64(len(a)) || sum.Rows != int64(len(a)) || sum.ParseErrors != malformed(a) {
			t.Fatalf("compact summary %+v, want %d records and rows, %d parse errors", sum, len(a), malformed(a))
		}
		s.checkLake(ctx, malformed(a))
	})

	t.Run("run merges and recomputes complete hours", func(t *testing.T) {
		s.t = t
		s.produce(ctx, b)
		sum, err := s.batch().Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("run: %+v", sum)
		s.checkLake(ctx, malformed(all))
		if sum.Compact.MergedFiles == 0 {
			t.Errorf("no files merged, want hour 08's two files per partition merged: %+v", sum.Compact)
		}
		perPartition := map[string]int{}
		for _, f := range s.lakeFiles() {
			if dir, name := path.Split(f); dir == "dt=2026-11-20/hour=08/" {
				perPartition[strings.SplitN(name, "-", 2)[0]]++
			}
		}
		for p, n := range perPartition {
			if n != 1 {
				t.Errorf("hour 08 has %d files of partition %s after merging, want 1", n, p)
			}
		}
		wantHours := []time.Time{base, base.Add(time.Hour)}
		if !reflect.DeepEqual(sum.Recompute.Hours, wantHours) {
			t.Errorf("recomputed hours %v, want %v (09 is not complete: max event time < 10:02)", sum.Recompute.Hours, wantHours)
		}
		s.checkViews(ctx, all, base, base.Add(2*time.Hour))
		s.checkTiers(ctx)
		s.checkPatterns(ctx, all)
		h := s.horizon(ctx)
		if !h.Horizon.Equal(base.Add(2*time.Hour)) || !reflect.DeepEqual(utc(h.Hours), wantHours) {
			t.Errorf("horizon doc %+v, want horizon %s hours %v", h, base.Add(2*time.Hour), wantHours)
		}
		if !sum.Recompute.Horizon.Equal(h.Horizon) {
			t.Errorf("summary horizon %s != doc %s", sum.Recompute.Horizon, h.Horizon)
		}
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		s.t = t
		before := s.snapshot(ctx)
		sum, err := s.batch().Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Compact.FilesWritten != 0 || sum.Compact.MergedFiles != 0 || len(sum.Recompute.Hours) != 0 {
			t.Errorf("second run did work: %+v", sum)
		}
		if after := s.snapshot(ctx); !reflect.DeepEqual(before, after) {
			t.Errorf("second run changed the lake or the docs:\nbefore %v\nafter  %v", before, after)
		}
	})

	// Late lines for hour 07, after it was recomputed.
	late07 := generate(3, 30, base, base.Add(time.Hour))
	for i := range late07 {
		late07[i].ingest = base.Add(3*time.Hour + 5*time.Minute)
		if late07[i].malformed || late07[i].noTime {
			late07[i].at = late07[i].ingest
		}
	}
	all = append(all, late07...)

	t.Run("crashed compaction leaves no duplicates", func(t *testing.T) {
		s.t = t
		s.produce(ctx, late07)
		crash := errors.New("crash")
		if _, err := s.batch(withAfterFiles(func() error { return crash })).Compact(ctx); !errors.Is(err, crash) {
			t.Fatalf("crashing compaction returned %v", err)
		}
		m := s.manifest()
		if len(s.lakeFiles()) <= len(m.Files) {
			t.Fatalf("the crashed run left no orphan file (%d on disk, %d in manifest)", len(s.lakeFiles()), len(m.Files))
		}
	})

	t.Run("late data marks the hour dirty and the next run fixes it", func(t *testing.T) {
		s.t = t
		prev := s.horizon(ctx)
		s.now = s.now.Add(time.Minute) // the next run, a minute later (within the grace)
		sum, err := s.batch().Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("run: %+v", sum)
		if sum.Compact.OrphansRemoved == 0 {
			t.Errorf("no orphans removed: %+v", sum.Compact)
		}
		if sum.Compact.DirtyHours != 1 || sum.Recompute.DirtyHours != 1 || !reflect.DeepEqual(sum.Recompute.Hours, []time.Time{base}) {
			t.Errorf("want hour 07 dirty and recomputed: %+v", sum)
		}
		s.checkLake(ctx, malformed(all))
		s.checkViews(ctx, all, base, base.Add(2*time.Hour))
		s.checkTiers(ctx)
		// The pattern miners read the late lines alone, and hour 07's
		// patterns are still what mining the whole lake gives.
		if want := int64(len(late07)) - malformed(late07); sum.Recompute.PatternRows != want {
			t.Errorf("patterns mined %d rows, want the %d parsed late lines", sum.Recompute.PatternRows, want)
		}
		s.checkPatterns(ctx, all)
		h := s.horizon(ctx)
		if !h.Horizon.Equal(base.Add(2 * time.Hour)) {
			t.Errorf("horizon %s, want %s", h.Horizon, base.Add(2*time.Hour))
		}
		// Serving reloads the batch views when the horizon document
		// changes; the horizon did not move, so the recompute must show.
		if h.Digest == prev.Digest || h.Updated.Equal(prev.Updated) {
			t.Errorf("hour 07 recomputed again but the horizon document is unchanged (digest %s, updated %s): serving keeps the stale views", h.Digest, h.Updated)
		}
		if len(h.Recomputed) != len(h.Hours) || len(prev.Recomputed) == 0 || !h.Recomputed[0].After(prev.Recomputed[0]) {
			t.Errorf("recomputed times %v of hours %v, before %v: want hour 07's later", h.Recomputed, h.Hours, prev.Recomputed)
		}
		var ld collections.LakeDoc
		if err := s.db.Collection(collections.MetaCollection).FindOne(ctx, bson.D{{Key: "_id", Value: "lake|logs"}}).Decode(&ld); err != nil {
			t.Fatal(err)
		}
		if ld.Rows != int64(len(all)) || ld.ParseErrors != malformed(all) {
			t.Errorf("lake doc rows %d parse errors %d, want %d %d", ld.Rows, ld.ParseErrors, len(all), malformed(all))
		}
	})

	t.Run("a producer gone quiet completes the last hour", func(t *testing.T) {
		s.t = t
		// Nothing new for more than the grace since 10:09: partition 0's
		// event time will not reach 10:02, so it must stop holding 09 back.
		s.now = base.Add(3*time.Hour + 15*time.Minute)
		sum, err := s.batch().Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Compact.Records != 0 || !reflect.DeepEqual(sum.Recompute.Hours, []time.Time{base.Add(2 * time.Hour)}) {
			t.Errorf("want nothing read and hour 09 recomputed: %+v", sum)
		}
		s.checkViews(ctx, all, base, base.Add(3*time.Hour))
		s.checkTiers(ctx)
		if sum.Recompute.PatternRows != 0 {
			t.Errorf("patterns mined %d rows, none new", sum.Recompute.PatternRows)
		}
		s.checkPatterns(ctx, all)
		if h := s.horizon(ctx); !h.Horizon.Equal(base.Add(3 * time.Hour)) {
			t.Errorf("horizon %s, want %s", h.Horizon, base.Add(3*time.Hour))
		}
		m := s.manifest()
		for p, ps := range m.Partitions {
			if ps.Quiet.IsZero() || ps.Quiet.After(s.now) {
				t.Errorf("partition %d quiet %s, want set by %s", p, ps.Quiet, s.now)
			}
		}
		before := s.snapshot(ctx)
		if _, err := s.batch().Run(ctx); err != nil {
			t.Fatal(err)
		}
		if after := s.snapshot(ctx); !reflect.DeepEqual(before, after) {
			t.Errorf("a second quiet run changed the lake or the docs")
		}
	})

	t.Run("late lines for an hour written clean long ago", func(t *testing.T) {
		s.t = t
		// Hour 08 was written clean, and the run after dropped its panes
		// from the pattern miners' state: its late lines add to the
		// patterns of its batch documents.
		late := generate(4, 25, base.Add(time.Hour), base.Add(2*time.Hour))
		for i := range late {
			late[i].ingest = s.now.Add(time.Minute)
			if late[i].malformed || late[i].noTime {
				late[i].at = late[i].ingest
			}
		}
		s.now = s.now.Add(2 * time.Minute)
		s.produce(ctx, late)
		all = append(all, late...)
		sum, err := s.batch().Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(sum.Recompute.Hours, base.Add(time.Hour)) {
			t.Errorf("hour 08 not recomputed: %+v", sum.Recompute)
		}
		if want := int64(len(late)) - malformed(late); sum.Recompute.PatternRows != want {
			t.Errorf("patterns mined %d rows, want the %d parsed late lines", sum.Recompute.PatternRows, want)
		}
		s.checkViews(ctx, all, base, base.Add(3*time.Hour))
		s.checkTiers(ctx)
		s.checkPatterns(ctx, all)
	})
}

// snapshot is the lake's file list and manifest and every batch document.
func (s *stack) snapshot(ctx context.Context) map[string]any {
	var man []byte
	var err error
	if s.store != nil {
		man, _, err = s.store.Get(ctx, "logs/"+lake.ManifestName)
	} else {
		man, err = os.ReadFile(filepath.Join(s.lakeDir, "logs", lake.ManifestName))
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return map[string]any{
		"files": s.lakeFiles(), "manifest": string(man),
		"hot": s.docs(ctx, "batch_hot"), "traffic": s.docs(ctx, "batch_traffic"), "meta": s.docs(ctx, collections.MetaCollection),
	}
}

func utc(ts []time.Time) []time.Time {
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = t.UTC()
	}
	return out
}
