package serving

import (
	"fmt"
	"os"
)

// Pane encodings held by serving (every pane of a complete hour, batch's
// all: cache.go) grow with the history: a week of the demo is ~10,000
// one-minute panes of each layer, about 53 KB each encoded from speed and
// ~100 KB from batch, 0.5 to 1.5 GB of Go heap, most of `up`'s resident
// memory at a week. With a spill directory (SpillDir) they are written to
// a file there instead, read back (pread) only when a range's edge or a
// step finer than an hour decodes a view (decodeCache). The file is
// unlinked as soon as it is created: the kernel frees its blocks once the
// last *os.File is closed, which Go's runtime does when no encoded pane
// refers to the file any more, so nothing is left behind by a crash and
// no bookkeeping decides when a pane is gone. The pages read back are the
// kernel's page cache, not the process's resident memory.

// extent is where a view's encoding is in a spill file.
type extent struct {
	off int64
	n   int
}

// spiller writes the encodings of one batch of panes (a sealed hour, a
// read of batch) to one new spill file. A nil *spiller holds everything
// in memory.
type spiller struct {
	f   *os.File
	off int64
	// failed is set by a failed write: nothing more is written (what was
	// is still read back from f).
	failed bool
	// warn reports a failure; the encodings are then held in memory.
	warn func(msg string, err error)
}

// newSpiller opens a new unlinked file in dir; nil when dir is empty, or
// (with a warning) when the file cannot be created.
func newSpiller(dir string, warn func(string, error)) *spiller {
	if dir == "" {
		return nil
	}
	f, err := os.CreateTemp(dir, "panes-*.spill")
	if err != nil {
		warn("pane encodings held in memory", fmt.Errorf("create spill file in %s: %w", dir, err))
		return nil
	}
	if err := os.Remove(f.Name()); err != nil {
		_ = f.Close()
		warn("pane encodings held in memory", fmt.Errorf("unlink spill file %s: %w", f.Name(), err))
		return nil
	}
	return &spiller{f: f, warn: warn}
}

// put writes b and returns where; false (b then stays in memory) when
// the spiller is nil or the write failed, after which it writes nothing.
func (s *spiller) put(b []byte) (extent, bool) {
	if s == nil || s.failed || len(b) == 0 {
		return extent{}, false
	}
	n, err := s.f.WriteAt(b, s.off)
	if err != nil {
		s.warn("pane encodings held in memory", fmt.Errorf("write spill file: %w", err))
		s.failed = true
		return extent{}, false
	}
	sp := extent{off: s.off, n: n}
	s.off += int64(n)
	return sp, true
}

// file is the spill file written, for the encodings put.
func (s *spiller) file() *os.File {
	if s == nil {
		return nil
	}
	return s.f
}

// newEncoded returns the encodings of a pane by view, written to sp when
// it can (the file then holds them, not the heap) or held as given.
func newEncoded(sp *spiller, enc [][]byte, c *decodeCache) *encoded {
	e := &encoded{views: enc, cache: c}
	for i, b := range enc {
		at, ok := sp.put(b)
		if !ok {
			continue
		}
		if e.spans == nil {
			e.spans = make([]extent, len(enc))
			e.file = sp.file()
		}
		e.spans[i] = at
		e.views[i] = nil
	}
	return e
}

// bytes returns the encoding of view i, read back from the spill file
// when it is there.
func (e *encoded) bytes(i int) ([]byte, error) {
	if e.views[i] != nil || e.spans == nil || e.spans[i].n == 0 {
		return e.views[i], nil
	}
	sp := e.spans[i]
	b := make([]byte, sp.n)
	if _, err := e.file.ReadAt(b, sp.off); err != nil {
		return nil, fmt.Errorf("read spill file at %d (%d bytes): %w", sp.off, sp.n, err)
	}
	return b, nil
}

// size is the length of view i's encoding.
func (e *encoded) size(i int) int {
	if e.views[i] == nil && e.spans != nil {
		return e.spans[i].n
	}
	return len(e.views[i])
}
