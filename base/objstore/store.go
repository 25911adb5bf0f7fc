// Package objstore is where the lake's objects live: a local directory or
// an S3 bucket prefix (AWS S3, or an S3-compatible server such as MinIO,
// Ceph or SeaweedFS), behind one small interface, Store. It also holds
// what a lake on object storage needs around it: a bounded local Cache of
// whole objects (DuckDB reads Parquet from local files only here: it has
// no httpfs extension) and a Lease object (one writer at a time where no
// flock reaches).
//
// Keys are slash-separated paths relative to the store's root
// ("logs/_manifest.json", "logs/dt=2026-11-20/hour=10/p0-1-9.parquet"),
// the same on every store, so a lake keeps its Hive layout whether it is
// a directory or a bucket.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) when an object does not exist.
var ErrNotExist = errors.New("object does not exist")

// ErrPrecondition is returned (wrapped) by Put when its Cond does not
// hold: the object was created or changed by someone else meanwhile.
var ErrPrecondition = errors.New("object changed by another writer")

// Store holds objects by key. Every write is atomic: a reader sees the old
// object or the new one, never a part.
type Store interface {
	// Get reads a small object whole, with its version (an opaque tag
	// that changes whenever the object does, for Put's Cond).
	Get(ctx context.Context, key string) (data []byte, version string, err error)
	// Put writes a small object whole when cond holds, returning its new
	// version; ErrPrecondition when it does not.
	Put(ctx context.Context, key string, data []byte, cond Cond) (version string, err error)
	// Upload stores the complete local file src as key.
	Upload(ctx context.Context, key, src string) error
	// Download copies key into the local file dst, whole or not at all.
	Download(ctx context.Context, key, dst string) error
	// List returns the objects whose keys start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Delete removes key; removing a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// AbortUploads aborts the incomplete multipart uploads of keys under
	// prefix started before before (a writer killed in the middle of a
	// large upload leaves its parts stored, and billed, but invisible to
	// List), returning their keys. A directory has none.
	AbortUploads(ctx context.Context, prefix string, before time.Time) ([]string, error)
	// LocalDir is the store's root directory when its objects are local
	// files (readers then read them in place), else "".
	LocalDir() string
	// String names the store for messages: a directory or s3://bucket/prefix.
	String() string
}

// Info describes a listed object.
type Info struct {
	Key  string
	Size int64
}

// Cond is the condition of a Put: none, the object must not exist, or it
// must still be at the version read.
type Cond struct {
	ifAbsent  bool
	ifVersion string
}

// Always is no condition: the object is replaced whatever it holds.
var Always = Cond{}

// IfAbsent makes a Put create the object only when it does not exist yet.
func IfAbsent() Cond { return Cond{ifAbsent: true} }

// IfVersion makes a Put replace the object only when it is still at
// version v (from Get or an earlier Put); "" means IfAbsent.
func IfVersion(v string) Cond {
	if v == "" {
		return IfAbsent()
	}
	return Cond{ifVersion: v}
}

// IsS3 reports whether location names an S3 bucket (s3://bucket/prefix).
func IsS3(location string) bool { return strings.HasPrefix(location, "s3://") }

// Open returns the store at location: a local directory (created when
// missing) or s3://bucket/prefix, configured by opts (endpoint, TLS; see
// S3Endpoint).
func Open(ctx context.Context, location string, opts ...Opt) (Store, error) {
	var c cfg
	for _, o := range opts {
		o(&c)
	}
	if !IsS3(location) {
		return OpenDir(location)
	}
	return openS3(ctx, location, c)
}

// cleanKey checks that key is a relative slash path inside the root.
func cleanKey(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key || key == "." ||
		key == ".." || strings.HasPrefix(key, "../") || strings.Contains(key, `\`) {
		return "", fmt.Errorf("object key %q is not a clean relative path", key)
	}
	return key, nil
}
