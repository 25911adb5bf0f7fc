package lakesql

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/objstore"
	"github.com/loglambda/loglambda/internal/testkit"
)

// TestQueryHoursFetchesTheRange: a lake of three hours in a real S3
// server (SeaweedFS); QueryHours over one hour fetches that hour's files
// only into the cache (counted by the cache's misses: 2 of the lake's 6)
// and counts that hour's rows, as counted here from the events; a plain
// Query then fetches the rest.
func TestQueryHoursFetchesTheRange(t *testing.T) {
	srv := testkit.StartS3(t)
	srv.Bucket(t, "hours")
	ctx := testkit.Context(t, 3*time.Minute)
	evs := testEvents(3000)
	root := t.TempDir()
	writeLake(t, root, "logs", evs)
	st, err := objstore.Open(ctx, "s3://hours/lake", objstore.S3Endpoint(srv.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	// The directory's objects, uploaded as they are: the same keys.
	files := 0
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p) == "_lock" {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if filepath.Ext(p) == ".parquet" {
			files++
		}
		return st.Upload(ctx, filepath.ToSlash(rel), p)
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 6 {
		t.Fatalf("the fixture wrote %d files, want 6 (3 hours x 2 partitions)", files)
	}
	cache, err := objstore.NewCache(st, t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New("s3://hours/lake", "logs", Remote(st, cache))
	if err != nil {
		t.Fatal(err)
	}
	from, to := hour0.Add(time.Hour), hour0.Add(2*time.Hour)
	var want int64
	for _, ev := range evs {
		if !ev.Time.Before(from) && ev.Time.Before(to) {
			want++
		}
	}
	res, err := l.QueryHours(ctx, "SELECT count(*) FROM logs", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][0].(int64); got != want {
		t.Errorf("rows of hour 1: %d, want %d", got, want)
	}
	if s := cache.Stats(); s.Misses != 2 {
		t.Errorf("one hour fetched %d objects, want its 2 files: %+v", s.Misses, s)
	}
	if _, err := l.QueryHours(ctx, "SELECT 1", hour0.Add(-5*time.Hour), hour0); err == nil {
		t.Error("a range with no files: no error")
	}
	res, err = l.Query(ctx, "SELECT count(*) FROM logs")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][0].(int64); got != int64(len(evs)) {
		t.Errorf("rows of the lake: %d, want %d", got, len(evs))
	}
	if s := cache.Stats(); s.Misses != 6 || s.Hits != 2 {
		t.Errorf("the whole lake after one hour: %+v, want 4 more misses and 2 hits", s)
	}
}
