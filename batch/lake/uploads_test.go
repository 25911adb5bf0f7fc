package lake

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/objstore"
	"github.com/loglambda/loglambda/internal/testkit"
)

// TestRemoveOrphansAbortsUploads: on a real S3 server (SeaweedFS), the
// orphan sweep aborts the incomplete multipart upload a writer killed in
// the middle of a large file leaves (invisible to List, stored until
// aborted), under the topic only, and keeps the lake's files.
func TestRemoveOrphansAbortsUploads(t *testing.T) {
	srv := testkit.StartS3(t)
	srv.Bucket(t, "uploads")
	ctx := testkit.Context(t, 3*time.Minute)
	st, err := objstore.Open(ctx, "s3://uploads/lake", objstore.S3Endpoint(srv.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	c, err := objstore.NewCache(st, t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	l, err := OpenStore(st, c, "logs")
	if err != nil {
		t.Fatal(err)
	}
	m, err := l.LoadManifest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := writeEvents(t, l, 0, 0, 100)
	m.AddFiles(f)
	if err := l.SaveManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	killed := "lake/logs/" + filepath.ToSlash(FilePath(hour0, 1, 0, 99999))
	srv.IncompleteUpload(t, "uploads", killed)
	srv.IncompleteUpload(t, "uploads", "lake/other/dt=2026-11-20/hour=10/p0-0-9.parquet")
	if got := srv.Uploads(t, "uploads", "lake/"); len(got) != 2 {
		t.Fatalf("incomplete uploads before the sweep: %v, want 2", got)
	}
	time.Sleep(1100 * time.Millisecond) // S3 times have whole seconds
	removed, err := l.RemoveOrphans(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{FilePath(hour0, 1, 0, 99999) + " (incomplete upload)"}
	if !slices.Equal(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	if got := srv.Uploads(t, "uploads", "lake/logs/"); len(got) != 0 {
		t.Fatalf("incomplete uploads under the topic after the sweep: %v", got)
	}
	if got := srv.Uploads(t, "uploads", "lake/other/"); len(got) != 1 {
		t.Fatalf("another topic's upload: %v, want it kept", got)
	}
	if keys := srv.Keys(t, "uploads", "lake/logs/"); !slices.Contains(keys, "lake/logs/"+f.Path) {
		t.Fatalf("the lake's file went with the sweep: %v", keys)
	}
}
