package lake

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/loglambda/loglambda/base/atomicfile"
	"github.com/loglambda/loglambda/schemas/event"
)

// Stream is a lake file of one (hour, partition) written a batch at a
// time, so that compaction holds one Arrow chunk and one row group's
// encoded pages per open file instead of the file's rows. Its name (the
// offsets it holds) is fixed by Commit; until then it is a temp file in
// the hour's directory, which the orphan sweep removes after a crash.
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
	fw        *pqarrow.FileWriter
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
		fw, err := pqarrow.NewFileWriter(event.ArrowSchema(), cw, writerProps(), arrowProps())
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, fmt.Errorf("create %s: %w", f.Name(), err)
		}
		return &Stream{l: l, hour: Hour(hour), partition: partition, staged: f, cw: cw, fw: fw}, nil
	}
	hint := l.Abs(FilePath(hour, partition, first, first))
	if err := os.MkdirAll(filepath.Dir(hint), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", hint, err)
	}
	pf, err := atomicfile.Create(hint, 0o644)
	if err != nil {
		return nil, err
	}
	fw, err := pqarrow.NewFileWriter(event.ArrowSchema(), pf.Writer(), writerProps(), arrowProps())
	if err != nil {
		pf.Abort()
		return nil, fmt.Errorf("create %s: %w", hint, err)
	}
	return &Stream{l: l, hour: Hour(hour), partition: partition, pf: pf, fw: fw}, nil
}

// Write appends the rows of rec (of event.ArrowSchema) to the current row
// group, which is written out when it reaches the lake's row group size.
func (s *Stream) Write(rec arrow.RecordBatch) error {
	if err := s.fw.WriteBuffered(rec); err != nil {
		return fmt.Errorf("write hour %s partition %d: %w", s.hour.Format(time.RFC3339), s.partition, err)
	}
	return nil
}

// Commit writes the footer and renames the file to its lake path, named
// by the offsets it holds; it returns that path and the file's size.
func (s *Stream) Commit(ctx context.Context, first, last int64) (rel string, size int64, err error) {
	rel = FilePath(s.hour, s.partition, first, last)
	if err := s.fw.Close(); err != nil {
		s.drop()
		return "", 0, fmt.Errorf("write %s: %w", rel, err)
	}
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
	s.fw.Close()
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
