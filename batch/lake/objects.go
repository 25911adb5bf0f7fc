package lake

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/loglambda/loglambda/base/atomicfile"
	"github.com/loglambda/loglambda/base/objstore"
)

// writeObject makes rel hold what write writes, whole or not at all. A
// local lake writes a temp file beside rel and renames it
// (base/atomicfile). A remote lake writes the file in its staging
// directory first, then uploads it (an S3 PUT is atomic: the object
// appears whole when the upload completes). Either way the file is no
// part of the lake until the manifest names it.
func (l *Lake) writeObject(ctx context.Context, rel string, write func(io.Writer) error) (int64, error) {
	if !l.Remote() {
		dst := l.Abs(rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return 0, fmt.Errorf("write %s: %w", dst, err)
		}
		return atomicfile.WriteWith(dst, 0o644, write)
	}
	f, err := os.CreateTemp(l.staging, "upload-*"+tempSuffix)
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", rel, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	cw := &countingWriter{w: f}
	err = write(cw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", rel, err)
	}
	// Within the caller's context, a bound that allows a slow link an
	// hour's file of several GB.
	ctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	if err := l.store.Upload(ctx, l.key(rel), tmp); err != nil {
		return 0, fmt.Errorf("write %s: %w", rel, err)
	}
	return cw.n, nil
}

// uploadTimeout bounds one file's upload.
const uploadTimeout = 30 * storeTimeout

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// pinnedFile is a lake file open for reading; Close also lets the cache
// evict its copy.
type pinnedFile struct {
	*os.File
	release func()
}

func (p *pinnedFile) Close() error {
	err := p.File.Close()
	p.release()
	return err
}

// open opens a lake file for reading: in place in a local lake, through
// the cache in a remote one.
func (l *Lake) open(ctx context.Context, rel string) (*pinnedFile, error) {
	paths, release, err := l.cache.Fetch(ctx, []objstore.Info{{Key: l.key(rel), Size: -1}})
	if err != nil {
		return nil, err
	}
	f, err := os.Open(paths[0])
	if err != nil {
		release()
		return nil, err
	}
	return &pinnedFile{File: f, release: release}, nil
}
