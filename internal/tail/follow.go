package tail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Line is one line handed to a Handler.
type Line struct {
	// Data is the line without its '\n', cut to the size cap. It is only
	// valid during the Handler call.
	Data []byte
	// Size is the line's real length without '\n': larger than len(Data)
	// when the line was truncated to the cap.
	Size int
	// End is the position just past the line's '\n' (or its last byte,
	// for a final line without one): where a restart resumes once this line
	// is done.
	End Position
	// First is set on the first line read from a file after opening it: at
	// the start, after a rotation and after a truncation. A caller grouping
	// lines (multi-line events) ends the pending group there, so that no
	// event spans two files.
	First bool
}

// Truncated reports whether the line was cut to the size cap.
func (l Line) Truncated() bool { return l.Size > len(l.Data) }

// Handler receives what a Follower reads, from the Follower's goroutine.
// An error stops the Follower and is returned by Run.
type Handler interface {
	// Line is called for every line, in file order.
	Line(Line) error
	// Idle is called when everything written so far has been read and the
	// Follower is about to wait, so that a caller holding lines back (a
	// multi-line group) can time them out. now is the wall clock.
	Idle(now time.Time) error
}

// Opt configures a Follower.
type Opt func(*cfg)

// cfg holds a Follower's settings; defaults are set in New.
type cfg struct {
	follow  bool
	poll    time.Duration
	maxLine int
	start   *Position
	reader  io.Reader
}

// Follow makes the Follower keep reading at the end of the file, like
// `tail -F`, until its context is done. Without it Run returns at the end of
// the file (after finishing a rotated-away file first).
func Follow(on bool) Opt { return func(c *cfg) { c.follow = on } }

// PollInterval sets how often a followed file is checked for new data,
// rotation and truncation (default 250 ms).
func PollInterval(d time.Duration) Opt { return func(c *cfg) { c.poll = d } }

// MaxLine sets the line size cap in bytes (default DefaultMaxLine).
func MaxLine(n int) Opt { return func(c *cfg) { c.maxLine = n } }

// StartAt resumes from a saved position. If the path now names another
// file, the saved file is looked for in the same directory (a rotation by
// rename while the shipper was down) and finished first; if it is gone,
// reading starts at the beginning of the current file. A file shorter than
// the saved offset was truncated and is read from the beginning.
func StartAt(p Position) Opt { return func(c *cfg) { c.start = &p } }

// FromReader reads r (stdin, typically) instead of opening the path, which
// is then only a name. There is no rotation, truncation or position to
// resume from; End offsets count bytes read.
func FromReader(r io.Reader) Opt { return func(c *cfg) { c.reader = r } }

// validate checks the settings, naming the setting and the values.
func (c *cfg) validate() error {
	if c.maxLine < 1 {
		return fmt.Errorf("max line %d is smaller than allowed 1", c.maxLine)
	}
	if c.follow && c.poll < time.Millisecond {
		return fmt.Errorf("poll interval %v is smaller than allowed 1ms", c.poll)
	}
	return nil
}

// Follower reads one file line by line; see the package doc.
type Follower struct {
	path string
	cfg  cfg

	rotations   atomic.Int64
	truncations atomic.Int64

	// The file being read.
	f     *os.File
	id    Position // device and inode of f
	lr    *lineReader
	first bool
}

// New returns a Follower of path.
func New(path string, opts ...Opt) (*Follower, error) {
	c := cfg{poll: 250 * time.Millisecond, maxLine: DefaultMaxLine}
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("tail %s: %w", path, err)
	}
	return &Follower{path: path, cfg: c}, nil
}

// Rotations is how many times the path was found naming a new file.
func (t *Follower) Rotations() int64 { return t.rotations.Load() }

// Truncations is how many times the file shrank below the read position.
func (t *Follower) Truncations() int64 { return t.truncations.Load() }

// Run reads until the end of the input (or, with Follow, until ctx is done)
// and hands every line to h. It returns ctx's error when stopped by ctx; the
// lines read before were all handed to h.
func (t *Follower) Run(ctx context.Context, h Handler) error {
	if t.cfg.reader != nil {
		t.lr = newLineReader(t.cfg.reader, t.cfg.maxLine, 0)
		t.first = true
		if err := t.drain(ctx, h); err != nil {
			return err
		}
		return t.flush(h)
	}
	if err := t.openStart(ctx); err != nil {
		return err
	}
	defer func() { t.f.Close() }()
	for {
		if err := t.drain(ctx, h); err != nil {
			return err
		}
		switched, err := t.check(ctx, h)
		if err != nil {
			return err
		}
		if switched {
			continue
		}
		if !t.cfg.follow {
			return t.flush(h)
		}
		if err := h.Idle(time.Now()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(t.cfg.poll):
		}
	}
}

// drain hands out every complete line up to the end of the file.
func (t *Follower) drain(ctx context.Context, h Handler) error {
	for n := 0; ; n++ {
		if n%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		data, size, ok, err := t.lr.next()
		if err != nil {
			return fmt.Errorf("read %s at offset %d: %w", t.path, t.lr.off, err)
		}
		if !ok {
			return nil
		}
		if err := t.emit(h, data, size); err != nil {
			return err
		}
	}
}

// flush hands out an unfinished last line as final.
func (t *Follower) flush(h Handler) error {
	if !t.lr.pending() {
		return nil
	}
	data, size := t.lr.flush()
	return t.emit(h, data, size)
}

func (t *Follower) emit(h Handler, data []byte, size int) error {
	end := t.id
	end.Offset = t.lr.off
	l := Line{Data: data, Size: size, End: end, First: t.first}
	t.first = false
	return h.Line(l)
}

// openStart opens the file to read first: the saved one if it still exists
// (possibly rotated away under another name), else the path. With Follow it
// waits for the path to appear.
func (t *Follower) openStart(ctx context.Context) error {
	if s := t.cfg.start; s != nil && s.Inode != 0 {
		if name, ok := t.findSaved(*s); ok {
			if err := t.open(name, s.Offset); err == nil {
				return nil
			}
		}
	}
	for {
		err := t.open(t.path, 0)
		if err == nil || !t.cfg.follow || !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(t.cfg.poll):
		}
	}
}

// findSaved finds the file of a saved position: the path itself, or a file
// in its directory with the saved device and inode.
func (t *Follower) findSaved(s Position) (string, bool) {
	if fi, err := os.Stat(t.path); err == nil {
		if dev, ino, ok := fileID(fi); ok && dev == s.Dev && ino == s.Inode {
			return t.path, true
		}
	}
	dir := filepath.Dir(t.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if dev, ino, ok := fileID(fi); ok && dev == s.Dev && ino == s.Inode {
			return filepath.Join(dir, e.Name()), true
		}
	}
	return "", false
}

// open makes name the file being read, from offset off (from 0 if the file
// is shorter: it was truncated since).
func (t *Follower) open(name string, off int64) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("tail %s: %w", name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("tail %s: %w", name, err)
	}
	if off > fi.Size() {
		off = 0
	}
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("tail %s: seek to %d: %w", name, off, err)
		}
	}
	dev, ino, _ := fileID(fi)
	if t.f != nil {
		t.f.Close()
	}
	t.f, t.id = f, Position{Dev: dev, Inode: ino}
	if t.lr == nil {
		t.lr = newLineReader(f, t.cfg.maxLine, off)
	} else {
		t.lr.reset(f, off)
	}
	t.first = true
	return nil
}

// check looks at the file after reaching its end: rotation (the path names
// another file) or truncation (the file is shorter than what was read).
// switched is true when reading goes on in a new file or from 0.
func (t *Follower) check(ctx context.Context, h Handler) (switched bool, err error) {
	if fi, err := t.f.Stat(); err == nil && fi.Size() < t.lr.off {
		// Truncated under us (copytruncate, or `> file`): what was not yet
		// read is gone, an unfinished line is final.
		if err := t.flush(h); err != nil {
			return false, err
		}
		if _, err := t.f.Seek(0, io.SeekStart); err != nil {
			return false, fmt.Errorf("tail %s: seek to 0 after truncation: %w", t.path, err)
		}
		t.lr.reset(t.f, 0)
		t.first = true
		t.truncations.Add(1)
		return true, nil
	}
	fi, err := os.Stat(t.path)
	if err != nil {
		// Renamed away and not yet recreated: the old file may still grow.
		return false, nil
	}
	dev, ino, ok := fileID(fi)
	if !ok || (dev == t.id.Dev && ino == t.id.Inode) {
		return false, nil
	}
	// Rotated: whatever the writer added to the old file before it moved
	// to the new one comes first.
	if err := t.drain(ctx, h); err != nil {
		return false, err
	}
	if err := t.flush(h); err != nil {
		return false, err
	}
	if err := t.open(t.path, 0); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // gone again between stat and open: try next poll
		}
		return false, err
	}
	t.rotations.Add(1)
	return true, nil
}
