package objstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/loglambda/loglambda/base/atomicfile"
)

// DefaultCacheSize bounds a Cache when no size is given: a few days of a
// busy topic's hour files, small beside the disks that hold a local lake.
const DefaultCacheSize = 8 << 30

// fetchParallel is how many objects a Fetch downloads at once: S3 serves
// each GET at a fraction of a link's bandwidth, and an hour of a busy
// lake is one file per partition.
const fetchParallel = 8

// Cache keeps whole objects of a remote store as local files, so that
// DuckDB (which reads local files here) and the Parquet merge read an
// hour's files at disk speed after one download. Lake files are immutable
// (a file's name says which offsets it holds; a change is a new name), so
// an entry is valid as long as its size is the manifest's.
//
// The cache is bounded: after a Fetch, least recently used entries are
// removed until the total fits. Entries a caller still reads are pinned
// until its release, and a Fetch larger than the bound is served in full
// (and trimmed on release) rather than failed. Safe for concurrent use;
// two processes must not share a directory.
type Cache struct {
	store Store
	dir   string
	max   int64

	mu       sync.Mutex
	entries  map[string]*entry
	used     int64
	clock    int64
	inflight map[string]chan struct{}
	stats    CacheStats
}

type entry struct {
	size int64
	last int64
	pins int
}

// CacheStats counts a cache's work since it was opened.
type CacheStats struct {
	Hits, Misses   int64
	FetchedBytes   int64
	Evicted        int64
	UsedBytes, Max int64
}

// NewCache returns the cache of store under dir (a subdirectory named for
// the store, so lakes can share dir), holding at most maxBytes, with the
// entries a previous process left there. For a local store it returns a
// cache that reads files in place and copies nothing.
func NewCache(store Store, dir string, maxBytes int64) (*Cache, error) {
	c := &Cache{store: store, max: maxBytes, entries: map[string]*entry{}, inflight: map[string]chan struct{}{}}
	if store.LocalDir() != "" {
		return c, nil
	}
	if dir == "" {
		return nil, fmt.Errorf("lake %s: a remote lake needs a cache directory (--lake-cache)", store)
	}
	if maxBytes <= 0 {
		c.max = DefaultCacheSize
	}
	c.dir = filepath.Join(dir, cacheName(store.String()))
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("lake cache %s: %w", c.dir, err)
	}
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, atomicfile.TempSuffix) {
			os.Remove(p) // a download cut short
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, err := filepath.Rel(c.dir, p)
		if err != nil {
			return err
		}
		c.clock++
		c.entries[filepath.ToSlash(rel)] = &entry{size: info.Size(), last: c.clock}
		c.used += info.Size()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lake cache %s: %w", c.dir, err)
	}
	c.mu.Lock()
	c.trim()
	c.mu.Unlock()
	return c, nil
}

// cacheName turns a store's name into a directory name.
func cacheName(s string) string {
	s = strings.TrimPrefix(s, "s3://")
	s = strings.Trim(s, "/")
	return strings.NewReplacer("/", "_", ":", "_", "..", "_").Replace(s)
}

// Dir is the directory the cache's files are in ("" for a local store).
func (c *Cache) Dir() string { return c.dir }

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.UsedBytes, s.Max = c.used, c.max
	return s
}

// Fetch returns a local file for each object (Size the size the caller
// expects, from the manifest; -1 when unknown), downloading those not
// cached, and pins them until release is called. A missing object is an
// error wrapping ErrNotExist.
func (c *Cache) Fetch(ctx context.Context, objs []Info) (paths []string, release func(), err error) {
	paths = make([]string, len(objs))
	if root := c.store.LocalDir(); root != "" {
		for i, o := range objs {
			if _, err := cleanKey(o.Key); err != nil {
				return nil, nil, err
			}
			paths[i] = filepath.Join(root, filepath.FromSlash(o.Key))
		}
		return paths, func() {}, nil
	}
	var pinned []string
	release = func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, k := range pinned {
			if e := c.entries[k]; e != nil && e.pins > 0 {
				e.pins--
			}
		}
		pinned = nil
		c.trim()
	}
	type result struct {
		i   int
		err error
	}
	sem := make(chan struct{}, fetchParallel)
	results := make(chan result, len(objs))
	var mu sync.Mutex
	for i, o := range objs {
		if _, err := cleanKey(o.Key); err != nil {
			release()
			return nil, nil, err
		}
		paths[i] = filepath.Join(c.dir, filepath.FromSlash(o.Key))
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			err := c.fetchOne(ctx, o, paths[i])
			if err == nil {
				mu.Lock()
				pinned = append(pinned, o.Key)
				mu.Unlock()
			}
			results <- result{i, err}
		}()
	}
	var first error
	for range objs {
		if r := <-results; r.err != nil && first == nil {
			first = r.err
		}
	}
	if first != nil {
		release()
		return nil, nil, first
	}
	return paths, release, nil
}

// fetchOne makes the object's file present and pins it; one download per
// key at a time.
func (c *Cache) fetchOne(ctx context.Context, o Info, path string) error {
	for {
		c.mu.Lock()
		if e := c.entries[o.Key]; e != nil && (o.Size < 0 || e.size == o.Size) {
			if _, err := os.Stat(path); err == nil {
				c.clock++
				e.last = c.clock
				e.pins++
				c.stats.Hits++
				c.mu.Unlock()
				return nil
			}
		}
		if wait, busy := c.inflight[o.Key]; busy {
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// Stale (size differs, file gone) or absent: download anew.
		if e := c.entries[o.Key]; e != nil && e.pins == 0 {
			c.used -= e.size
			delete(c.entries, o.Key)
		}
		done := make(chan struct{})
		c.inflight[o.Key] = done
		c.stats.Misses++
		c.mu.Unlock()

		err := c.store.Download(ctx, o.Key, path)
		var size int64
		if err == nil {
			var info os.FileInfo
			if info, err = os.Stat(path); err == nil {
				size = info.Size()
				if o.Size >= 0 && size != o.Size {
					err = fmt.Errorf("lake cache: %s is %d bytes in %s, the manifest says %d", o.Key, size, c.store, o.Size)
				}
			}
		}
		c.mu.Lock()
		delete(c.inflight, o.Key)
		close(done)
		if err == nil {
			c.clock++
			if old := c.entries[o.Key]; old != nil {
				c.used -= old.size
			}
			c.entries[o.Key] = &entry{size: size, last: c.clock, pins: 1}
			c.used += size
			c.stats.FetchedBytes += size
		}
		c.mu.Unlock()
		if err != nil {
			if !errors.Is(err, ErrNotExist) {
				os.Remove(path)
			}
			return err
		}
		return nil
	}
}

// trim removes least recently used unpinned entries until the cache
// fits. The caller holds mu.
func (c *Cache) trim() {
	for c.used > c.max {
		var victim string
		var oldest int64
		for k, e := range c.entries {
			if e.pins == 0 && (victim == "" || e.last < oldest) {
				victim, oldest = k, e.last
			}
		}
		if victim == "" {
			return
		}
		e := c.entries[victim]
		os.Remove(filepath.Join(c.dir, filepath.FromSlash(victim)))
		c.used -= e.size
		c.stats.Evicted++
		delete(c.entries, victim)
	}
}
