package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/loglambda/loglambda/base/atomicfile"
)

// Dir is a Store in a local directory: each key is a file under the root,
// written through base/atomicfile (temp file, fsync, rename), so a crash
// leaves the old file or the new one.
type Dir struct {
	root string
	// mu makes Put's check and write one step within this process; across
	// processes the lake's flock keeps a single writer (see batch/lake).
	mu sync.Mutex
}

// OpenDir returns the store in directory root, creating it.
func OpenDir(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("open lake directory: empty path")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("open lake directory %s: %w", root, err)
	}
	return &Dir{root: root}, nil
}

// NewDir returns the store in directory root as it is, creating nothing:
// for readers, which must not make a lake appear by looking for one.
func NewDir(root string) *Dir { return &Dir{root: root} }

// Path is the file of key.
func (d *Dir) Path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

// AbortUploads does nothing: a file is written to a temp name and renamed,
// and the lake's sweep removes temp files.
func (d *Dir) AbortUploads(context.Context, string, time.Time) ([]string, error) { return nil, nil }

// LocalDir is the root directory.
func (d *Dir) LocalDir() string { return d.root }

func (d *Dir) String() string { return d.root }

// version of a local object is the hash of its content: a file's mtime
// can stay the same across two writes within its resolution.
func version(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:16])
}

func (d *Dir) Get(_ context.Context, key string) ([]byte, string, error) {
	if _, err := cleanKey(key); err != nil {
		return nil, "", err
	}
	data, found, err := atomicfile.Read(d.Path(key))
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", key, err)
	}
	if !found {
		return nil, "", fmt.Errorf("get %s: %w", key, ErrNotExist)
	}
	return data, version(data), nil
}

func (d *Dir) Put(ctx context.Context, key string, data []byte, cond Cond) (string, error) {
	if _, err := cleanKey(key); err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cond != Always {
		_, v, err := d.Get(ctx, key)
		switch {
		case errors.Is(err, ErrNotExist):
			if !cond.ifAbsent {
				return "", fmt.Errorf("put %s: gone: %w", key, ErrPrecondition)
			}
		case err != nil:
			return "", err
		case cond.ifAbsent || v != cond.ifVersion:
			return "", fmt.Errorf("put %s: %w", key, ErrPrecondition)
		}
	}
	p := d.Path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	if err := atomicfile.Write(p, data, 0o644); err != nil {
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	return version(data), nil
}

// Upload moves src into place when it is on the same file system (the
// lake writes its files there), else copies it.
func (d *Dir) Upload(_ context.Context, key, src string) error {
	if _, err := cleanKey(key); err != nil {
		return err
	}
	dst := d.Path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	defer f.Close()
	if _, err := atomicfile.WriteWith(dst, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, f)
		return err
	}); err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return nil
}

func (d *Dir) Download(_ context.Context, key, dst string) error {
	if _, err := cleanKey(key); err != nil {
		return err
	}
	f, err := os.Open(d.Path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("download %s: %w", key, ErrNotExist)
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", key, err)
	}
	defer f.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("download %s: %w", key, err)
	}
	if _, err := atomicfile.WriteWith(dst, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, f)
		return err
	}); err != nil {
		return fmt.Errorf("download %s: %w", key, err)
	}
	return nil
}

func (d *Dir) List(_ context.Context, prefix string) ([]Info, error) {
	// Walk from the deepest directory the prefix names.
	start := d.root
	if i := lastSlash(prefix); i >= 0 {
		start = d.Path(prefix[:i])
	}
	var out []Info
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == start {
				return fs.SkipAll
			}
			return err
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if len(key) < len(prefix) || key[:len(prefix)] != prefix {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		out = append(out, Info{Key: key, Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s under %s: %w", prefix, d.root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete removes key's file (the lake removes directories left empty
// itself).
func (d *Dir) Delete(_ context.Context, key string) error {
	if _, err := cleanKey(key); err != nil {
		return err
	}
	p := d.Path(key)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}
