package lake

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/loglambda/loglambda/schemas/event"
)

// row is one lake row as compaction writes it with parquet-go: the
// columns of event.ArrowSchema, in its order, with its names and the
// Parquet types pqarrow reads back as the same Arrow types (timestamps in
// microseconds adjusted to UTC, strings, raw as bare binary).
// TestStreamSchema holds the two equal; a column added to the event
// schema is added here.
//
// parquet-go rather than pqarrow for this path: compaction writes every
// row of the topic once, and pqarrow's Arrow builders, per-value
// dictionary hashing and statistics were most of its cost; with the
// encodings below parquet-go writes 100 k demo lines at 2.1 times
// pqarrow's rows per CPU-second, both with zstd (batch's BenchmarkCompact
// prints the whole compaction beside pqarrow alone).
//
// Encodings, column by column, for what a log line's columns hold:
// times and offsets are nearly sorted and nearly unique, delta encoding
// is a few bits per row where a dictionary would be as large as the
// column; the low-cardinality strings that vary (host, level, method,
// status, path...) are dictionaries; the columns nearly constant in a
// file (topic, partition, format, parse_error) are delta-coded, a few
// bits a page, where a dictionary hashed every value (parquet-go's
// dictionaries are a Go map: the hashing was a quarter of the writer);
// user, ip, query, msg, the extra fields and the raw line are plain
// (nearly unique: a dictionary hashes every value only to fall back at
// its size limit, and compression finds the repeats). Min/max bounds are
// kept for the time, number and level columns only: the strings' bounds
// cost a compare per value and prune no row group of mixed traffic
// (pqarrow's merged files have them again).
//
// Compression (Snappy, streamOptions) only where it shrinks the pages:
// dictionary indexes, deltas and booleans are already bit-packed, and
// are stored uncompressed (on demo lines, about 6 of a row's 97 bytes
// in the file, which Snappy had left within a few percent of their
// size).
type row struct {
	Ts          int64   `parquet:"ts,timestamp(microsecond:utc),delta,uncompressed"`
	TimeMissing bool    `parquet:"time_missing,uncompressed"`
	IngestTs    int64   `parquet:"ingest_ts,timestamp(microsecond:utc),delta,uncompressed"`
	Host        string  `parquet:"host,dict,uncompressed"`
	Instance    string  `parquet:"instance,dict,uncompressed"`
	Level       string  `parquet:"level,dict,uncompressed"`
	Component   string  `parquet:"component,dict,uncompressed"`
	User        string  `parquet:"user"`
	IP          string  `parquet:"ip"`
	Method      string  `parquet:"method,dict,uncompressed"`
	Path        string  `parquet:"path,dict"`
	Query       string  `parquet:"query"`
	Status      int32   `parquet:"status,dict,uncompressed"`
	Bytes       int64   `parquet:"bytes"`
	LatencyMS   float64 `parquet:"latency_ms"`
	Msg         string  `parquet:"msg"`
	HotTerm     string  `parquet:"hot_term,dict"`
	Fields      string  `parquet:"fields"`
	ParseError  string  `parquet:"parse_error,delta,uncompressed"`
	Format      string  `parquet:"format,delta,uncompressed"`
	Raw         []byte  `parquet:"raw"`
	Topic       string  `parquet:"topic,delta,uncompressed"`
	Partition   int32   `parquet:"partition,delta,uncompressed"`
	Offset      int64   `parquet:"offset,delta,uncompressed"`
	UV          string  `parquet:"uv"`
	// FormatDefault is event.ColFormatDefault.
	FormatDefault bool `parquet:"format_default,uncompressed"`
}

// set fills r from ev. Strings and raw are shared, not copied: the writer
// copies them into its pages. The fields column's JSON is appended to
// *text, and r's Fields borrows it: *text is reused once the row is
// written (Stream.flush).
func (r *row) set(ev *event.Event, text *[]byte) {
	var fields string
	if len(ev.Fields) > 0 {
		at := len(*text)
		*text = event.AppendFieldsJSON(*text, ev.Fields)
		fields = unsafe.String(&(*text)[at], len(*text)-at)
	}
	raw := ev.Raw
	if raw == nil {
		raw = []byte{} // the lake has no nulls
	}
	*r = row{
		Ts: ev.Time.UnixMicro(), TimeMissing: ev.TimeMissing, IngestTs: ev.IngestTime.UnixMicro(),
		Host: ev.Host, Instance: ev.Instance, Level: ev.Level, Component: ev.Component,
		User: ev.User, IP: ev.IP, Method: ev.Method, Path: ev.Path, Query: ev.Query,
		Status: ev.Status, Bytes: ev.Bytes, LatencyMS: ev.LatencyMS, Msg: ev.Msg,
		HotTerm: ev.HotTerm, Fields: fields, ParseError: ev.ParseError,
		Format: ev.Format, Raw: raw, Topic: ev.Topic, Partition: ev.Partition, Offset: ev.Offset, UV: ev.UV,
		FormatDefault: ev.FormatDefault,
	}
}

// Memory of an open streamed file: the encoded pages of its current row
// group (about 100 bytes a demo row with Snappy) and one page buffer per
// column (256 KiB, parquet-go's default). Compaction holds up to two or
// three open files per partition, so a row group of streamRowGroupRows
// keeps an open file near 13 MB where pqarrow's 128 k rows held 19 MB
// (the first compaction of a 24 h backfill held 135 MB of parquet-go's
// buffers in up). Smaller pages would save more and cost CPU: with 64 KiB
// pages BenchmarkCompact gave 176 k lines/cpu-s twice, 217 k with 256 KiB
// in the same quarter hour. DuckDB still scans a file's row groups in
// parallel, and merged hours get rowGroupRows again.
const (
	streamRowGroupRows = 64 * 1024
	streamPageBytes    = 256 << 10
)

// streamOptions are the parquet-go writer options of compaction's files.
func streamOptions() []pq.WriterOption {
	opts := []pq.WriterOption{
		pq.Compression(fastSnappy{}),
		pq.MaxRowsPerRowGroup(streamRowGroupRows),
		pq.PageBufferSize(streamPageBytes),
		pq.CreatedBy("loglambda", "", ""),
		// No statistics in each page's header: parquet-go computes them
		// for every column, SkipPageBounds or not (a fifth of the write's
		// CPU on demo lines, comparing every string of every page), and
		// readers prune by the column chunk's statistics and the column
		// index, which keep their bounds for the columns named below.
		pq.DataPageStatistics(false),
	}
	for _, f := range event.ArrowSchema().Fields() {
		if arrow.IsBaseBinary(f.Type.ID()) && f.Name != event.ColLevel {
			opts = append(opts, pq.SkipPageBounds(f.Name))
		}
	}
	return opts
}

// fastSnappy is Snappy written by s2's fastest Snappy-compatible encoder.
// The codec was the largest part of the write left: on 100 k demo lines
// zstd at its fastest level wrote 389 k rows per CPU-second for 7.1 MB,
// this 565 k for 9.9 MB (same run, shared machine). parquet-go's own
// Snappy codec uses s2's "better" mode, slower again. Merging the small
// files of a finished hour rewrites them in zstd (writerProps).
type fastSnappy struct{}

func (fastSnappy) String() string                            { return "SNAPPY" }
func (fastSnappy) CompressionCodec() format.CompressionCodec { return format.Snappy }

func (fastSnappy) Encode(dst, src []byte) ([]byte, error) {
	return s2.EncodeSnappy(dst[:cap(dst)], src), nil
}

func (fastSnappy) Decode(dst, src []byte) ([]byte, error) {
	return snappy.Decode(dst[:cap(dst)], src)
}
