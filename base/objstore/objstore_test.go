package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// storeContract runs the Store contract on st: what every store promises
// the lake (whole objects, conditions, listing, deletes).
func storeContract(t *testing.T, st Store) {
	ctx := context.Background()
	if _, _, err := st.Get(ctx, "t/missing.json"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("get missing: %v, want ErrNotExist", err)
	}
	v1, err := st.Put(ctx, "t/m.json", []byte("one"), IfAbsent())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "t/m.json", []byte("two"), IfAbsent()); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("second create: %v, want ErrPrecondition", err)
	}
	v2, err := st.Put(ctx, "t/m.json", []byte("two"), IfVersion(v1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "t/m.json", []byte("three"), IfVersion(v1)); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("put over a stale version: %v, want ErrPrecondition", err)
	}
	data, v, err := st.Get(ctx, "t/m.json")
	if err != nil || string(data) != "two" || v != v2 {
		t.Fatalf("get = %q %q %v, want two %q", data, v, err, v2)
	}
	src := filepath.Join(t.TempDir(), "src")
	big := bytes.Repeat([]byte("parquet!"), 1<<16)
	if err := os.WriteFile(src, big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Upload(ctx, "t/dt=2026-11-20/hour=10/p0-1-2.parquet", src); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	if err := st.Download(ctx, "t/dt=2026-11-20/hour=10/p0-1-2.parquet", dst); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, big) {
		t.Fatalf("download: %d bytes, want %d", len(got), len(big))
	}
	if err := st.Download(ctx, "t/nothing.parquet", dst); !errors.Is(err, ErrNotExist) {
		t.Fatalf("download missing: %v", err)
	}
	list, err := st.List(ctx, "t/")
	if err != nil {
		t.Fatal(err)
	}
	want := []Info{{"t/dt=2026-11-20/hour=10/p0-1-2.parquet", int64(len(big))}, {"t/m.json", 3}}
	if fmt.Sprint(list) != fmt.Sprint(want) {
		t.Fatalf("list = %v, want %v", list, want)
	}
	if err := st.Delete(ctx, "t/m.json"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "t/m.json"); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
	if _, _, err := st.Get(ctx, "t/m.json"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("get deleted: %v", err)
	}
	for _, bad := range []string{"", "/abs", "../up", "a/../../b", `a\b`} {
		if _, err := st.Put(ctx, bad, nil, Always); err == nil {
			t.Errorf("put %q: no error", bad)
		}
	}
}

func TestDirContract(t *testing.T) {
	st, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	storeContract(t, st)
}

// TestCacheBounded fetches more than the bound through a cache of a
// store and checks what is kept, hit, evicted and pinned.
func TestCacheBounded(t *testing.T) {
	ctx := context.Background()
	st, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	remote := &notLocal{st}
	const size, n = 1000, 10
	var objs []Info
	for i := range n {
		key := fmt.Sprintf("t/dt=2026-11-20/hour=%02d/p0.parquet", i)
		if _, err := st.Put(ctx, key, bytes.Repeat([]byte{byte(i)}, size), Always); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, Info{Key: key, Size: size})
	}
	dir := t.TempDir()
	c, err := NewCache(remote, dir, 4*size)
	if err != nil {
		t.Fatal(err)
	}
	// All ten at once: more than the bound, served whole while pinned.
	paths, release, err := c.Fetch(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		got, err := os.ReadFile(p)
		if err != nil || len(got) != size || got[0] != byte(i) {
			t.Fatalf("file %d: %d bytes, %v", i, len(got), err)
		}
	}
	if s := c.Stats(); s.UsedBytes != n*size || s.Misses != n {
		t.Fatalf("pinned: %+v", s)
	}
	release()
	if s := c.Stats(); s.UsedBytes != 4*size || s.Evicted != n-4 {
		t.Fatalf("after release: %+v, want 4 kept", s)
	}
	// Which four the parallel fetch above left is the goroutines' order;
	// an object touched alone is then the most recently used, and a hit.
	for range 2 {
		_, release, err = c.Fetch(ctx, objs[n-1:])
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	if s := c.Stats(); s.Hits < 1 || s.UsedBytes != 4*size {
		t.Fatalf("touched twice: %+v, want a hit and 4 kept", s)
	}
	// A wrong size is fetched anew, and fails.
	if _, _, err := c.Fetch(ctx, []Info{{Key: objs[n-2].Key, Size: size + 1}}); err == nil {
		t.Fatal("fetch with a size the object does not have: no error")
	}
	if _, _, err := c.Fetch(ctx, []Info{{Key: "t/gone.parquet", Size: -1}}); !errors.Is(err, ErrNotExist) {
		t.Fatalf("fetch missing: %v", err)
	}
	// A new cache over the same directory starts with what is there.
	c2, err := NewCache(remote, dir, 4*size)
	if err != nil {
		t.Fatal(err)
	}
	_, release, err = c2.Fetch(ctx, objs[n-1:])
	if err != nil {
		t.Fatal(err)
	}
	release()
	if s := c2.Stats(); s.Hits != 1 || s.Misses != 0 {
		t.Fatalf("reopened cache: %+v, want a hit", s)
	}
}

// notLocal hides a Dir's LocalDir, so a cache copies from it as from S3.
type notLocal struct{ *Dir }

func (notLocal) LocalDir() string { return "" }

func TestLease(t *testing.T) {
	ctx := context.Background()
	st, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, err := TakeLease(ctx, st, "t/_lease.json", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := TakeLease(ctx, st, "t/_lease.json", time.Minute); err == nil {
		t.Fatal("second lease taken while the first is held")
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	b, err := TakeLease(ctx, st, "t/_lease.json", time.Minute)
	if err != nil {
		t.Fatalf("lease after release: %v", err)
	}
	defer b.Release()
	// An expired lease of a holder elsewhere is taken over, and its old
	// holder finds out at its next renewal.
	c, err := TakeLease(ctx, st, "t/_other.json", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	_, v, _ := st.Get(ctx, "t/_other.json")
	close(c.stop) // the holder hangs (alive, so only the ttl frees it)
	<-c.done
	time.Sleep(350 * time.Millisecond)
	d, err := TakeLease(ctx, st, "t/_other.json", time.Minute)
	if err != nil {
		t.Fatalf("take an expired lease: %v", err)
	}
	defer d.Release()
	if _, err := st.Put(ctx, "t/_other.json", []byte("{}"), IfVersion(v)); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("old holder's renewal after takeover: %v, want ErrPrecondition", err)
	}
	if err := c.Check(); err == nil {
		t.Fatal("Check of an expired lease: no error")
	}
}
