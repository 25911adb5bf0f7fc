package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/objstore"
	"github.com/loglambda/loglambda/internal/testkit"
)

// TestS3 runs the store's promises against a real S3 server (SeaweedFS):
// conditional writes, whole-file uploads and downloads, listing, the
// cache over it and the lease.
func TestS3(t *testing.T) {
	srv := testkit.StartS3(t)
	srv.Bucket(t, "objstore")
	ctx := testkit.Context(t, 3*time.Minute)
	if _, err := objstore.Open(ctx, "s3://missing-bucket/x", objstore.S3Endpoint(srv.Endpoint)); err == nil {
		t.Error("open a bucket that does not exist: no error")
	}
	st, err := objstore.Open(ctx, "s3://objstore/lake", objstore.S3Endpoint(srv.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	if st.LocalDir() != "" {
		t.Fatal("an S3 store says it is local")
	}
	checkConditionalPuts(ctx, t, st)
	if _, _, err := st.Get(ctx, "t/none.json"); !errors.Is(err, objstore.ErrNotExist) {
		t.Fatalf("get missing: %v", err)
	}
	// Files larger than one multipart part go up whole.
	big := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16*3)
	src := t.TempDir() + "/src"
	if err := os.WriteFile(src, big, 0o644); err != nil {
		t.Fatal(err)
	}
	var objs []objstore.Info
	for i := range 3 {
		key := fmt.Sprintf("t/dt=2026-11-20/hour=%02d/p0-0-9.parquet", i)
		if err := st.Upload(ctx, key, src); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, objstore.Info{Key: key, Size: int64(len(big))})
	}
	small := t.TempDir() + "/small"
	if err := os.WriteFile(small, []byte("PAR1small"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Upload(ctx, "t/small.parquet", small); err != nil {
		t.Fatal(err)
	}
	if l, err := st.List(ctx, "t/small"); err != nil || len(l) != 1 {
		t.Fatalf("small upload listed as %v, %v", l, err)
	}
	st.Delete(ctx, "t/small.parquet")
	list, err := st.List(ctx, "t/")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(append(append([]objstore.Info(nil), objs...), objstore.Info{Key: "t/m.json", Size: 3}))
	if fmt.Sprint(list) != want {
		t.Fatalf("list = %v\nwant %v", list, want)
	}
	c, err := objstore.NewCache(st, t.TempDir(), 2*int64(len(big)))
	if err != nil {
		t.Fatal(err)
	}
	paths, release, err := c.Fetch(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, big) {
			t.Fatalf("cached %s: %d bytes, %v", p, len(got), err)
		}
	}
	release()
	if s := c.Stats(); s.Misses != 3 || s.FetchedBytes != 3*int64(len(big)) || s.UsedBytes != 2*int64(len(big)) {
		t.Errorf("cache stats %+v: want 3 misses, 2 files kept", s)
	}
	if err := st.Delete(ctx, objs[0].Key); err != nil {
		t.Fatal(err)
	}
	fresh, err := objstore.NewCache(st, t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fresh.Fetch(ctx, objs[:1]); !errors.Is(err, objstore.ErrNotExist) {
		t.Errorf("fetch of a deleted object: %v, want ErrNotExist", err)
	}
	// The lease: one holder at a time; released, the next takes it.
	a, err := objstore.TakeLease(ctx, st, "t/_lease.json", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := objstore.TakeLease(ctx, st, "t/_lease.json", 0); err == nil {
		t.Fatal("second lease while the first is held")
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	b, err := objstore.TakeLease(ctx, st, "t/_lease.json", 0)
	if err != nil {
		t.Fatalf("lease after release: %v", err)
	}
	b.Release()
}

// TestS3Emulated: with the server's conditional writes not used
// (ConditionalOff, what a server without them gets), Put's conditions
// still refuse a second create and a stale version, and of several runs
// taking the lease at the same moment exactly one holds it.
func TestS3Emulated(t *testing.T) {
	srv := testkit.StartS3(t)
	srv.Bucket(t, "emulated")
	ctx := testkit.Context(t, 3*time.Minute)
	st, err := objstore.Open(ctx, "s3://emulated/lake", objstore.S3Endpoint(srv.Endpoint),
		objstore.S3Conditional(objstore.ConditionalOff))
	if err != nil {
		t.Fatal(err)
	}
	if !objstore.Emulated(st) {
		t.Fatal("ConditionalOff: the store says it uses the server's conditional writes")
	}
	if auto, err := objstore.Open(ctx, "s3://emulated/lake", objstore.S3Endpoint(srv.Endpoint)); err != nil || objstore.Emulated(auto) {
		t.Fatalf("auto on a server with conditional writes: emulated %v, %v", err == nil && objstore.Emulated(auto), err)
	}
	checkConditionalPuts(ctx, t, st)
	for round := range 3 {
		key := fmt.Sprintf("t/_lease-%d.json", round)
		const takers = 4
		type res struct {
			l   *objstore.Lease
			err error
		}
		out := make(chan res, takers)
		start := make(chan struct{})
		for range takers {
			go func() {
				<-start
				l, err := objstore.TakeLease(ctx, st, key, 0)
				out <- res{l, err}
			}()
		}
		close(start)
		var held []*objstore.Lease
		for range takers {
			r := <-out
			if r.err == nil {
				held = append(held, r.l)
			} else if !strings.Contains(r.err.Error(), "took") && !strings.Contains(r.err.Error(), "held by") && !strings.Contains(r.err.Error(), "too slow") {
				t.Errorf("round %d: a taker failed otherwise: %v", round, r.err)
			}
		}
		if len(held) > 1 {
			t.Fatalf("round %d: %d runs hold the lease at once", round, len(held))
		}
		for _, l := range held {
			if err := l.Check(); err != nil {
				t.Errorf("round %d: the holder's lease: %v", round, err)
			}
			l.Release()
		}
		t.Logf("round %d: %d of %d takers hold the lease", round, len(held), takers)
	}
}

// checkConditionalPuts checks st's conditions on t/m.json: a second create
// and a put over a stale version are refused, a put over the current
// version is taken, and a read gives what that put wrote with its version.
func checkConditionalPuts(ctx context.Context, t *testing.T, st objstore.Store) {
	t.Helper()
	v1, err := st.Put(ctx, "t/m.json", []byte("one"), objstore.IfAbsent())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "t/m.json", []byte("two"), objstore.IfAbsent()); !errors.Is(err, objstore.ErrPrecondition) {
		t.Fatalf("second create: %v, want ErrPrecondition", err)
	}
	v2, err := st.Put(ctx, "t/m.json", []byte("two"), objstore.IfVersion(v1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "t/m.json", []byte("three"), objstore.IfVersion(v1)); !errors.Is(err, objstore.ErrPrecondition) {
		t.Fatalf("put over a stale version: %v, want ErrPrecondition", err)
	}
	if data, v, err := st.Get(ctx, "t/m.json"); err != nil || string(data) != "two" || v != v2 {
		t.Fatalf("get = %q %q %v, want two %q", data, v, err, v2)
	}
}
