package lake

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/loglambda/loglambda/schemas/event"
)

// scanBatchRows is how many rows ScanFile holds decoded at a time: a
// batch of the file, not the file (an hour's merged file can hold
// millions of rows).
const scanBatchRows = 16 * 1024

// ScanFile calls fn with each row of the lake file rel (a manifest path),
// in file order, read back as an event (files from before the uv column
// with UV ""). fn may keep the event: every row is a fresh one. It reads a
// remote lake's file through the cache.
func (l *Lake) ScanFile(ctx context.Context, rel string, fn func(*event.Event) error) error {
	f, err := l.open(ctx, rel)
	if err != nil {
		return fmt.Errorf("scan %s: %w", rel, err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return fmt.Errorf("scan %s: %w", rel, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: scanBatchRows}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("scan %s: %w", rel, err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return fmt.Errorf("scan %s: %w", rel, err)
	}
	defer rr.Release()
	for {
		rec, err := rr.Read()
		if rec != nil {
			evs, eerr := event.EventsFromRecordBatch(rec)
			if eerr != nil {
				return fmt.Errorf("scan %s: %w", rel, eerr)
			}
			for i := range evs {
				if ferr := fn(&evs[i]); ferr != nil {
					return ferr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("scan %s: %w", rel, err)
		}
	}
}
