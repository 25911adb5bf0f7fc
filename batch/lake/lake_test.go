package lake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/event"
)

var hour0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// testEvents returns n events of partition p starting at offset first.
func testEvents(p int32, first int64, n int) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		off := first + int64(i)
		out[i] = event.Event{
			Time: hour0.Add(time.Duration(off) * time.Second), IngestTime: hour0.Add(time.Hour),
			User: fmt.Sprintf("u%d", off%7), IP: "10.0.0.1", Path: "/search", Query: "q=x",
			Status: 200, Bytes: off, HotTerm: "x", Format: "json",
			Raw: []byte(fmt.Sprintf(`{"n":%d}`, off)), Topic: "logs", Partition: p, Offset: off,
		}
	}
	return out
}

// tempLake opens the lake of topic "logs" in a temporary directory.
func tempLake(tb testing.TB) *Lake {
	tb.Helper()
	l, err := Open(tb.TempDir(), "logs")
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

func writeEvents(t *testing.T, l *Lake, p int32, first int64, n int) File {
	t.Helper()
	evs := testEvents(p, first, n)
	rec := testkit.Record(evs)
	defer rec.Release()
	rel := FilePath(hour0, p, first, first+int64(n)-1)
	size, err := l.WriteFile(context.Background(), rel, rec)
	if err != nil {
		t.Fatal(err)
	}
	return File{Path: rel, Partition: p, FirstOffset: first, LastOffset: first + int64(n) - 1, Rows: int64(n), Bytes: size, Hour: hour0}
}

func TestPaths(t *testing.T) {
	tests := []struct {
		hour      time.Time
		p         int32
		first, ls int64
		want      string
	}{
		{hour0, 3, 1200, 1800, "dt=2026-11-20/hour=10/p3-1200-1800.parquet"},
		{time.Date(2026, 1, 2, 3, 59, 0, 0, time.UTC), 0, 0, 0, "dt=2026-01-02/hour=03/p0-0-0.parquet"},
		{time.Date(2026, 1, 2, 3, 30, 0, 0, time.FixedZone("x", 3600)), 1, 5, 9, "dt=2026-01-02/hour=02/p1-5-9.parquet"},
	}
	for _, tc := range tests {
		if got := FilePath(Hour(tc.hour), tc.p, tc.first, tc.ls); got != tc.want {
			t.Errorf("FilePath(%s, %d, %d, %d) = %s, want %s", tc.hour, tc.p, tc.first, tc.ls, got, tc.want)
		}
	}
}

func TestWriteReadMergeOrphans(t *testing.T) {
	ctx := context.Background()
	l := tempLake(t)
	m, err := l.LoadManifest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := writeEvents(t, l, 0, 0, 10)
	b := writeEvents(t, l, 0, 10, 5)
	m.AddFiles(a, b)
	m.Partition(0).NextOffset = 15
	if err := l.SaveManifest(ctx, m); err != nil {
		t.Fatal(err)
	}

	// A crashed run's file and a temp file are orphans; the known files stay.
	orphan := writeEvents(t, l, 0, 15, 3)
	if err := os.WriteFile(l.Abs(a.Path)+tempSuffix, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := l.RemoveOrphans(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(removed)
	want := []string{a.Path + tempSuffix, orphan.Path}
	sort.Strings(want)
	if !reflect.DeepEqual(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}

	got, err := l.ReadFile(ctx, a.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, testEvents(0, 0, 10)) {
		t.Fatalf("read back differs:\n got %+v\nwant %+v", got[0], testEvents(0, 0, 1)[0])
	}

	merged := FilePath(hour0, 0, 0, 14)
	size, rows, err := l.Merge(ctx, merged, []string{a.Path, b.Path})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 15 || size <= 0 {
		t.Fatalf("merge: %d rows, %d bytes; want 15 rows", rows, size)
	}
	m.ReplaceFiles([]string{a.Path, b.Path}, File{Path: merged, Partition: 0, FirstOffset: 0, LastOffset: 14, Rows: rows, Bytes: size, Hour: hour0})
	if err := l.SaveManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	if removed, err = l.RemoveOrphans(ctx, m); err != nil || len(removed) != 2 {
		t.Fatalf("after merge removed %v (%v), want the 2 inputs", removed, err)
	}
	got, err = l.ReadFile(ctx, merged)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, testEvents(0, 0, 15)) {
		t.Fatal("merged file differs from its inputs")
	}

	m2, err := l.LoadManifest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m2, m) {
		t.Fatalf("manifest round trip:\n got %+v\nwant %+v", m2, m)
	}
	if _, err := os.Stat(filepath.Join(l.Dir(), ManifestName)); err != nil {
		t.Fatal(err)
	}
}

func TestAddFilesMarksRecomputedHourDirty(t *testing.T) {
	m := NewManifest("logs")
	m.AddFiles(File{Path: "a", Hour: hour0})
	if m.Hour(hour0).Dirty {
		t.Fatal("a new hour is not dirty")
	}
	m.Hour(hour0).Recomputed = hour0.Add(2 * time.Hour)
	m.AddFiles(File{Path: "b", Hour: hour0})
	if !m.Hour(hour0).Dirty {
		t.Fatal("rows added to a recomputed hour must mark it dirty")
	}
}

func TestLockExcludesSecondWriter(t *testing.T) {
	l := tempLake(t)
	unlock, err := l.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(context.Background()); err == nil {
		t.Fatal("second Lock succeeded while the first is held")
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlock, err = l.Lock(context.Background())
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock()
}

func TestRemoveOrphansRefusesWithoutManifest(t *testing.T) {
	l := tempLake(t)
	f := writeEvents(t, l, 0, 0, 3)
	if _, err := l.RemoveOrphans(context.Background(), NewManifest("logs")); err == nil {
		t.Fatal("want an error: files but no manifest")
	}
	if _, err := os.Stat(l.Abs(f.Path)); err != nil {
		t.Fatalf("file removed: %v", err)
	}
}
