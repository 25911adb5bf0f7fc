package lake

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/loglambda/loglambda/base/atomicfile"
	"github.com/loglambda/loglambda/schemas/event"
)

// streamChunk is how many rows a Stream gathers before handing them to
// the Parquet writer: one call per chunk keeps the writer's per-call cost
// off the rows, and the chunk's strings are the events' own (row.set).
const streamChunk = 1024

// Stream is a lake file of one (hour, partition) written an event at a
// time, so that compaction holds a chunk of rows and one row group's
// encoded pages per open file instead of the file's rows. Its name (the
// offsets it holds) is fixed by Commit; until then it is a temp file in
// the hour's directory, which the orphan sweep removes after a crash.
//
// It is written with parquet-go (see row); files merged later are
// rewritten by pqarrow (Merge), and both read back as event.ArrowSchema.
//
// On object storage the file is written in the lake's staging directory
// and uploaded at Commit, as WriteFile does.
type Stream struct {
	l         *Lake
	hour      time.Time
	partition int32
	pf        *atomicfile.Pending // local lake
	staged    *os.File            // remote lake
	cw        *countingWriter     // remote lake
	fw        *pq.GenericWriter[row]
	rows      []row
	// text holds the gathered rows' fields JSON (row.set), reused after
	// each flush. A row keeps pointing into the array it was appended
	// to when a later append moves text: the old array stays alive and
	// unchanged until the flush.
	text []byte
}

// CreateStream starts the file of partition's rows in hour; first is the
// first offset it will hold (it names the temp file only).
func (l *Lake) CreateStream(hour time.Time, partition int32, first int64) (*Stream, error) {
	if l.Remote() {
		f, err := os.CreateTemp(l.staging, "upload-*"+tempSuffix)
		if err != nil {
			return nil, fmt.Errorf("create stream of hour %s partition %d: %w", Hour(hour).Format(time.RFC3339), partition, err)
		}
		cw := &countingWriter{w: f}
		return &Stream{l: l, hour: Hour(hour), partition: partition, staged: f, cw: cw,
			fw: l.writer(cw), rows: make([]row, 0, streamChunk)}, nil
	}
	hint := l.Abs(FilePath(hour, partition, first, first))
	if err := os.MkdirAll(filepath.Dir(hint), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", hint, err)
	}
	pf, err := atomicfile.Create(hint, 0o644)
	if err != nil {
		return nil, err
	}
	return &Stream{l: l, hour: Hour(hour), partition: partition, pf: pf,
		fw: l.writer(pf.Writer()), rows: make([]row, 0, streamChunk)}, nil
}

// writer returns a Parquet writer of lake rows onto w: a committed
// Stream's, reset, when there is one. A new writer grows its column
// buffers, dictionaries and page buffers again over its first row group
// (about 8 MB a file, a fifth of what compaction allocated on
// BenchmarkCompact's 25 k-row files); the pool lets the collector take
// the idle ones, so a lake between compactions holds none for long.
func (l *Lake) writer(w io.Writer) *pq.GenericWriter[row] {
	if fw, ok := l.writers.Get().(*pq.GenericWriter[row]); ok {
		fw.Reset(w)
		return fw
	}
	return pq.NewGenericWriter[row](w, streamOptions()...)
}

// Append adds ev as the file's next row; the current row group is written
// out when it reaches the lake's row group size. ev's strings and raw
// bytes must not change until the next Append that writes (the Stream
// keeps up to streamChunk rows that share them).
func (s *Stream) Append(ev *event.Event) error {
	s.rows = s.rows[:len(s.rows)+1]
	s.rows[len(s.rows)-1].set(ev, &s.text)
	if len(s.rows) == cap(s.rows) {
		return s.flush()
	}
	return nil
}

// Flush hands the rows gathered so far to the Parquet writer, which
// copies their strings: after it the events appended may change. A
// committed or aborted Stream has none.
func (s *Stream) Flush() error { return s.flush() }

// flush hands the gathered rows to the Parquet writer.
func (s *Stream) flush() error {
	if len(s.rows) == 0 {
		return nil
	}
	_, err := s.fw.Write(s.rows)
	clear(s.rows) // drop the events' strings
	s.rows = s.rows[:0]
	s.text = s.text[:0]
	if err != nil {
		return fmt.Errorf("write hour %s partition %d: %w", s.hour.Format(time.RFC3339), s.partition, err)
	}
	return nil
}

// Commit writes the footer and renames the file to its lake path, named
// by the offsets it holds; it returns that path and the file's size.
func (s *Stream) Commit(ctx context.Context, first, last int64) (rel string, size int64, err error) {
	return s.CommitTo(ctx, FilePath(s.hour, s.partition, first, last))
}

// CommitTo is Commit to the path rel (relative to the topic directory),
// for a writer that must choose another name than the offsets' one
// (Manifest.FreePath).
func (s *Stream) CommitTo(ctx context.Context, rel string) (_ string, size int64, err error) {
	err = s.flush()
	if err == nil {
		err = s.fw.Close()
	}
	if err != nil {
		s.drop()
		return "", 0, fmt.Errorf("write %s: %w", rel, err)
	}
	// Only a writer that closed cleanly is reused: one that failed may
	// hold a half-written row group.
	s.fw.Reset(nil)
	s.l.writers.Put(s.fw)
	s.fw = nil
	if s.staged != nil {
		defer os.Remove(s.staged.Name())
		if err := s.staged.Close(); err != nil {
			return "", 0, fmt.Errorf("write %s: %w", rel, err)
		}
		ctx, cancel := context.WithTimeout(ctx, uploadTimeout)
		defer cancel()
		if err := s.l.store.Upload(ctx, s.l.key(rel), s.staged.Name()); err != nil {
			return "", 0, fmt.Errorf("write %s: %w", rel, err)
		}
		return path.Clean(rel), s.cw.n, nil
	}
	if err := s.pf.Commit(s.l.Abs(rel)); err != nil {
		return "", 0, err
	}
	return path.Clean(rel), s.pf.Size(), nil
}

// Abort drops the file.
func (s *Stream) Abort() {
	s.rows = nil
	s.drop()
}

// drop removes the file being written.
func (s *Stream) drop() {
	if s.staged != nil {
		s.staged.Close()
		os.Remove(s.staged.Name())
		return
	}
	s.pf.Abort()
}
