package lake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/loglambda/loglambda/base/objstore"
)

// Lake is the lake of one topic: the objects under <topic>/ in a store, a
// local directory (<root>/<topic>) or an S3 bucket prefix.
type Lake struct {
	store objstore.Store
	cache *objstore.Cache
	topic string
	// dir is the topic directory of a local lake, "" on object storage.
	dir string
	// staging holds files being written to a remote lake before upload.
	staging string
	// manifestVersion is the stored manifest's version as last loaded or
	// saved; a remote lake saves the next one only over it, so a writer
	// that lost its lease cannot overwrite a newer manifest.
	manifestVersion string
	// lease is the remote lake's writer lease while Lock holds it.
	lease *objstore.Lease
	// writers are the Parquet writers of committed Streams, reset for
	// the next one (Stream.writer).
	writers sync.Pool
}

// Open returns the lake of topic under the local directory root,
// creating its directory.
func Open(root, topic string) (*Lake, error) {
	st, err := objstore.OpenDir(root)
	if err != nil {
		return nil, fmt.Errorf("open lake: %w", err)
	}
	c, err := objstore.NewCache(st, "", 0)
	if err != nil {
		return nil, fmt.Errorf("open lake: %w", err)
	}
	return OpenStore(st, c, topic)
}

// OpenStore returns the lake of topic in store, read through cache (a
// cache of a local store reads files in place).
func OpenStore(store objstore.Store, cache *objstore.Cache, topic string) (*Lake, error) {
	if topic == "" || strings.ContainsAny(topic, `/\`) || topic == "." || topic == ".." {
		return nil, fmt.Errorf("open lake: topic %q is not a valid directory name", topic)
	}
	l := &Lake{store: store, cache: cache, topic: topic}
	if root := store.LocalDir(); root != "" {
		l.dir = filepath.Join(root, topic)
		if err := os.MkdirAll(l.dir, 0o755); err != nil {
			return nil, fmt.Errorf("open lake %s: %w", l.dir, err)
		}
	} else {
		l.staging = filepath.Join(cache.Dir(), "_staging")
		if err := os.MkdirAll(l.staging, 0o755); err != nil {
			return nil, fmt.Errorf("open lake %s: staging: %w", store, err)
		}
	}
	return l, nil
}

// Dir is the topic directory of a local lake; "" on object storage.
func (l *Lake) Dir() string { return l.dir }

// Topic is the lake's topic.
func (l *Lake) Topic() string { return l.topic }

// Store is where the lake's objects are.
func (l *Lake) Store() objstore.Store { return l.store }

// Remote reports whether the lake is on object storage.
func (l *Lake) Remote() bool { return l.dir == "" }

// Abs returns the file system path of a manifest path in a local lake.
// A remote lake's files have no path until fetched: see Fetch.
func (l *Lake) Abs(rel string) string { return filepath.Join(l.dir, filepath.FromSlash(rel)) }

// key is the store key of a path relative to the topic directory.
func (l *Lake) key(rel string) string { return l.topic + "/" + rel }

// Fetch returns a local file for each lake file (the file itself in a
// local lake, a cached copy of a remote one), kept until release.
func (l *Lake) Fetch(ctx context.Context, files []File) (paths []string, release func(), err error) {
	objs := make([]objstore.Info, len(files))
	for i, f := range files {
		size := f.Bytes
		if size <= 0 {
			size = -1
		}
		objs[i] = objstore.Info{Key: l.key(f.Path), Size: size}
	}
	paths, release, err = l.cache.Fetch(ctx, objs)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch lake files: %w", err)
	}
	return paths, release, nil
}

// Remove deletes a lake file (one the manifest no longer names).
func (l *Lake) Remove(ctx context.Context, rel string) error {
	return l.store.Delete(ctx, l.key(rel))
}
