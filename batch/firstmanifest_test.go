package batch

import (
	"errors"
	"github.com/loglambda/loglambda/base/objstore"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/internal/testkit"
)

// TestCrashInFirstCompaction kills the very first compaction of a new lake
// at its worst moment: its Parquet files renamed into place, its manifest
// not saved yet. The next run must treat those files as orphans, compact
// again from Kafka and recompute: every record once in the lake, the views
// exact, a horizon. Before the empty first manifest, every later run
// refused the lake as one whose manifest was lost.
func TestCrashInFirstCompaction(t *testing.T) {
	testCrashInFirstCompaction(t, newStack(t))
}

// TestCrashInFirstCompactionS3 is the same crash with the lake in S3.
func TestCrashInFirstCompactionS3(t *testing.T) {
	testkit.SkipShort(t, "starts SeaweedFS")
	testCrashInFirstCompaction(t, newS3Stack(t))
}

// TestCrashInFirstCompactionS3Emulated is the same crash on S3 with the
// conditional writes emulated.
func TestCrashInFirstCompactionS3Emulated(t *testing.T) {
	testkit.SkipShort(t, "starts SeaweedFS")
	testCrashInFirstCompaction(t, newS3Stack(t, objstore.S3Conditional(objstore.ConditionalOff)))
}

func testCrashInFirstCompaction(t *testing.T, s *stack) {
	ctx := testkit.Context(t, 3*time.Minute)
	all := generate(7, 1500, base, base.Add(3*time.Hour))
	s.produce(ctx, all)

	crash := errors.New("killed")
	if _, err := s.batch(withAfterFiles(func() error { return crash })).Compact(ctx); !errors.Is(err, crash) {
		t.Fatalf("crashing compaction returned %v", err)
	}
	onDisk := s.lakeFiles()
	if len(onDisk) == 0 {
		t.Fatal("the crashed compaction left no file: it did not crash where this test means")
	}
	l := s.openLake()
	if has, err := l.HasManifest(ctx); err != nil || !has {
		t.Fatalf("no manifest before the first file (%v)", err)
	}
	m, err := l.LoadManifest(ctx)
	if err != nil || len(m.Files) != 0 {
		t.Fatalf("manifest after the crash lists %d files (%v), want none", len(m.Files), err)
	}

	sum, err := s.batch().Run(ctx)
	if err != nil {
		t.Fatalf("run after the crash: %v", err)
	}
	if sum.Compact.OrphansRemoved != len(onDisk) {
		t.Errorf("removed %d orphans, want the %d files of the crashed run", sum.Compact.OrphansRemoved, len(onDisk))
	}
	s.checkLake(ctx, malformed(all))
	s.checkViews(ctx, all, base, base.Add(3*time.Hour))
	if h := s.horizon(ctx); h.Horizon.IsZero() {
		t.Errorf("no horizon after the run: %+v", h)
	}
}

// TestLostManifestStillRefused checks the other side: a lake whose
// manifest file is gone is refused, not emptied.
func TestLostManifestStillRefused(t *testing.T) {
	ctx := testkit.Context(t, 2*time.Minute)
	s := newStack(t)
	s.produce(ctx, generate(8, 300, base, base.Add(time.Hour)))
	if _, err := s.batch().Compact(ctx); err != nil {
		t.Fatal(err)
	}
	files := s.lakeFiles()
	if err := os.Remove(filepath.Join(s.lakeDir, "logs", lake.ManifestName)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.batch().Compact(ctx); err == nil {
		t.Fatal("compaction of a lake without its manifest succeeded")
	}
	if got := s.lakeFiles(); len(got) != len(files) {
		t.Fatalf("%d files left of %d", len(got), len(files))
	}
}
