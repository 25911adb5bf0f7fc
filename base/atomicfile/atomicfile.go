// Package atomicfile writes a file so that a crash, or a reader at the
// same moment, sees the old content or the new, never part of one: the
// data goes to a temp file in the same directory, is synced, and is
// renamed over the file; then the directory is synced so that the rename
// itself survives a crash. The lake's manifest and Parquet files, the
// tailer's positions, the demo's marker and the test certificates are all
// written this way, by this one rule.
//
// It also reads the files it writes where a missing file is no error
// (the first run has none yet).
package atomicfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// TempSuffix ends the name of every temp file, so that whoever cleans up
// after a crash (the lake's orphan sweep) can tell them from real files.
const TempSuffix = ".tmp"

// Write replaces path by data, atomically. perm is the mode of a new
// file, before the umask, as for os.WriteFile.
func Write(path string, data []byte, perm fs.FileMode) error {
	_, err := WriteWith(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	return err
}

// WriteJSON replaces path by v as indented JSON ending in a newline, for
// files an operator may read, atomically.
func WriteJSON(path string, v any, perm fs.FileMode) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return Write(path, append(data, '\n'), perm)
}

// WriteWith replaces path by what write writes, atomically, for writers
// that stream (Parquet). It returns the size written. write must not
// close w (it is no io.Closer, so a writer that closes its sink on Close
// leaves the file to WriteWith). On any error the temp file is removed
// and path is left as it was.
func WriteWith(path string, perm fs.FileMode, write func(w io.Writer) error) (int64, error) {
	f, err := createTemp(path, perm)
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	cw := &countingWriter{w: f}
	err = write(cw)
	if err == nil {
		if err = f.Sync(); err != nil {
			err = fmt.Errorf("sync %s: %w", tmp, err)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", tmp, cerr)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return cw.n, nil
}

// createTemp creates a new temp file beside path: a name of its own (two
// writers of one path do not write into each other's temp file) ending in
// TempSuffix, with mode perm as os.WriteFile would give it, which
// os.CreateTemp (always 0600) does not.
func createTemp(path string, perm fs.FileMode) (*os.File, error) {
	for try := 0; ; try++ {
		name := path + "." + strconv.FormatUint(rand.Uint64()%1e9, 10) + TempSuffix
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		return f, nil
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// countingWriter counts what goes through it; it is also what keeps the
// file from a writer that would close it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Read returns the content of path; found is false, with no error, when
// there is no such file.
func Read(path string) (data []byte, found bool, err error) {
	data, err = os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return data, true, nil
}

// ReadJSON decodes path into v; found is false, with no error and v
// untouched, when there is no such file.
func ReadJSON(path string, v any) (found bool, err error) {
	data, found, err := Read(path)
	if !found || err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %s: %w", path, err)
	}
	return true, nil
}

// Pending is a file being written whose name is known only at the end (a
// lake file is named by the last offset it holds): a temp file in its
// final directory, renamed by Commit as WriteWith renames, or removed by
// Abort. Like every temp file it ends in TempSuffix, so a crash leaves
// something the lake's orphan sweep removes.
type Pending struct {
	f  *os.File
	cw countingWriter
}

// Create starts a Pending file beside hint (a path in the final
// directory; the temp file is named after it).
func Create(hint string, perm fs.FileMode) (*Pending, error) {
	f, err := createTemp(hint, perm)
	if err != nil {
		return nil, err
	}
	p := &Pending{f: f}
	p.cw.w = f
	return p, nil
}

// Writer is where the content goes; like WriteWith's, it is no io.Closer.
func (p *Pending) Writer() io.Writer { return &p.cw }

// Size is the number of bytes written so far.
func (p *Pending) Size() int64 { return p.cw.n }

// Commit syncs the file and renames it to path, which must be in the
// directory of the hint, then syncs that directory. On error the temp
// file is removed.
func (p *Pending) Commit(path string) error {
	tmp := p.f.Name()
	err := p.f.Sync()
	if err != nil {
		err = fmt.Errorf("sync %s: %w", tmp, err)
	}
	if cerr := p.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", tmp, cerr)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Abort closes and removes the temp file.
func (p *Pending) Abort() {
	p.f.Close()
	os.Remove(p.f.Name())
}
