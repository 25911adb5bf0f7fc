package lake

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/loglambda/loglambda/schemas/event"
)

// rowGroupRows is the largest row group written. DuckDB scans a file in
// parallel by row group and its own writer uses 122,880 rows, so a merged
// hour of a few million rows still spreads over the cores.
const rowGroupRows = 128 * 1024

// writerProps are the Parquet properties of every lake file: zstd at its
// fastest level (smaller than snappy for log text, and with the
// dictionaries below the higher levels gain little for several times the
// write cost), read by every engine we care about; dictionaries for the
// low-cardinality strings.
//
// Times and offsets are nearly sorted and nearly unique: a dictionary of
// them is as large as the column, delta encoding is a few bits per row.
// The raw line, the message and the extra fields are nearly unique too: a
// dictionary would hash every value only to be dropped at its size limit,
// and their min/max statistics filter nothing.
func writerProps() *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(zstdLevel),
		parquet.WithDictionaryDefault(true),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithCreatedBy("loglambda"),
	}
	for _, col := range []string{event.ColTime, event.ColIngestTime, event.ColOffset} {
		opts = append(opts,
			parquet.WithDictionaryFor(col, false),
			parquet.WithEncodingFor(col, parquet.Encodings.DeltaBinaryPacked))
	}
	for _, col := range []string{event.ColRaw, event.ColMsg, event.ColFields} {
		opts = append(opts,
			parquet.WithDictionaryFor(col, false),
			parquet.WithStatsFor(col, false))
	}
	return parquet.NewWriterProperties(opts...)
}

// zstdLevel is zstd's fastest level (klauspost/compress: SpeedFastest).
const zstdLevel = 1

// arrowProps store the Arrow schema in the file metadata, so Arrow readers
// get back timestamp[us, UTC] and not a bare int64.
func arrowProps() pqarrow.ArrowWriterProperties {
	return pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
}

// WriteFile writes the record batches (of event.ArrowSchema) as the lake
// file rel: to a temp file first, renamed into place once synced, so the
// path holds a whole file or nothing. It returns the file's size.
func (l *Lake) WriteFile(ctx context.Context, rel string, recs ...arrow.RecordBatch) (int64, error) {
	return l.writeParquet(ctx, rel, func(fw *pqarrow.FileWriter) error {
		for _, rec := range recs {
			if err := fw.Write(rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// Merge writes the rows of the files inputs (manifest paths) into one file
// rel, in input order, with full row groups. The inputs are not removed:
// the caller saves the manifest first and deletes them after. It returns
// the merged file's size and row count.
func (l *Lake) Merge(ctx context.Context, rel string, inputs []string) (size, rows int64, err error) {
	size, err = l.writeParquet(ctx, rel, func(fw *pqarrow.FileWriter) error {
		for _, in := range inputs {
			n, err := l.copyRows(ctx, fw, in)
			if err != nil {
				return fmt.Errorf("read %s: %w", in, err)
			}
			rows += n
		}
		return nil
	})
	return size, rows, err
}

// copyRows appends the rows of one lake file to fw.
func (l *Lake) copyRows(ctx context.Context, fw *pqarrow.FileWriter, rel string) (int64, error) {
	f, err := l.open(ctx, rel)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return 0, err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: rowGroupRows}, memory.DefaultAllocator)
	if err != nil {
		return 0, err
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return 0, err
	}
	defer rr.Release()
	var n int64
	for {
		rec, err := rr.Read()
		if rec != nil {
			// The reader's schema carries Parquet field ids in its
			// metadata and files from before the uv column lack it; the
			// writer wants its own schema exactly.
			same, uerr := event.UpgradeRecordBatch(rec)
			if uerr != nil {
				return n, uerr
			}
			werr := fw.WriteBuffered(same)
			same.Release()
			if werr != nil {
				return n, werr
			}
			n += rec.NumRows()
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// writeParquet runs write on a Parquet writer of the lake schema over a
// temp file and puts it in place as rel when all went well (writeObject).
func (l *Lake) writeParquet(ctx context.Context, rel string, write func(*pqarrow.FileWriter) error) (int64, error) {
	return l.writeObject(ctx, rel, func(w io.Writer) error {
		fw, err := pqarrow.NewFileWriter(event.ArrowSchema(), w, writerProps(), arrowProps())
		if err != nil {
			return err
		}
		if err := write(fw); err != nil {
			fw.Close()
			return err
		}
		// Close writes the footer.
		return fw.Close()
	})
}

// ReadFile reads a lake file back into events: for tests, re-parsing and
// inspection from Go (SQL over the lake goes through DuckDB).
func (l *Lake) ReadFile(ctx context.Context, rel string) ([]event.Event, error) {
	f, err := l.open(ctx, rel)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(ctx, f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, rowGroupRows)
	defer tr.Release()
	var out []event.Event
	for tr.Next() {
		evs, err := event.EventsFromRecordBatch(tr.RecordBatch())
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", rel, err)
		}
		out = append(out, evs...)
	}
	return out, nil
}
