package lake

import (
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
type Stream struct {
	l         *Lake
	hour      time.Time
	partition int32
	pf        *atomicfile.Pending
	fw        *pqarrow.FileWriter
}

// CreateStream starts the file of partition's rows in hour; first is the
// first offset it will hold (it names the temp file only).
func (l *Lake) CreateStream(hour time.Time, partition int32, first int64) (*Stream, error) {
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
func (s *Stream) Commit(first, last int64) (rel string, size int64, err error) {
	rel = FilePath(s.hour, s.partition, first, last)
	if err := s.fw.Close(); err != nil {
		s.pf.Abort()
		return "", 0, fmt.Errorf("write %s: %w", rel, err)
	}
	if err := s.pf.Commit(s.l.Abs(rel)); err != nil {
		return "", 0, err
	}
	return path.Clean(rel), s.pf.Size(), nil
}

// Abort drops the file.
func (s *Stream) Abort() {
	s.fw.Close()
	s.pf.Abort()
}
