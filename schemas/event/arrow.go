package event

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Column names of the lake, in schema order. SQL over the lake (batch
// recompute, serving's /v1/sql, notebooks) uses these names, so they are
// part of the contract: rename one and every stored query breaks.
const (
	ColTime        = "ts"
	ColTimeMissing = "time_missing"
	ColIngestTime  = "ingest_ts"
	ColHost        = "host"
	ColInstance    = "instance"
	ColLevel       = "level"
	ColComponent   = "component"
	ColUser        = "user"
	ColIP          = "ip"
	ColMethod      = "method"
	ColPath        = "path"
	ColQuery       = "query"
	ColStatus      = "status"
	ColBytes       = "bytes"
	ColLatencyMS   = "latency_ms"
	ColMsg         = "msg"
	ColHotTerm     = "hot_term"
	ColFields      = "fields"
	ColParseError  = "parse_error"
	ColFormat      = "format"
	ColRaw         = "raw"
	ColTopic       = "topic"
	ColPartition   = "partition"
	ColOffset      = "offset"
	// ColUV was added after the first lakes were written, so it is last:
	// files without it keep every other column at its index. Readers
	// treat a missing uv as "" (see UpgradeRecordBatch): the visitor is
	// then the default user/ip rule, which is what those files counted.
	ColUV = "uv"
	// ColFormatDefault came later still, after uv, for the same reason;
	// a file without it reads false (the row keeps its format).
	ColFormatDefault = "format_default"
)

// columnsBeforeUV is the number of lake columns files written before the
// uv column have.
const columnsBeforeUV = 24

// columnsBeforeFormatDefault is the number of lake columns files written
// before the format_default column have.
const columnsBeforeFormatDefault = 25

// ArrowSchema returns the Arrow schema of the lake: one column per Event
// field, plus the raw line and the provenance. It is the single definition
// of the lake's columns; the Parquet files are written from it.
//
// Absent values are zero values, not nulls (the Event has no nulls either):
// an empty host is "", a missing status 0. Times are microseconds in UTC,
// the finest unit every Parquet reader (DuckDB, Spark, pandas) agrees on.
// Fields is the JSON text of the map ("" when there is none), because a
// Parquet MAP column is read differently by every engine and JSON text is
// queryable everywhere (DuckDB: fields::JSON->>'key').
func ArrowSchema() *arrow.Schema {
	ts := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	str := arrow.BinaryTypes.String
	return arrow.NewSchema([]arrow.Field{
		{Name: ColTime, Type: ts},
		{Name: ColTimeMissing, Type: arrow.FixedWidthTypes.Boolean},
		{Name: ColIngestTime, Type: ts},
		{Name: ColHost, Type: str},
		{Name: ColInstance, Type: str},
		{Name: ColLevel, Type: str},
		{Name: ColComponent, Type: str},
		{Name: ColUser, Type: str},
		{Name: ColIP, Type: str},
		{Name: ColMethod, Type: str},
		{Name: ColPath, Type: str},
		{Name: ColQuery, Type: str},
		{Name: ColStatus, Type: arrow.PrimitiveTypes.Int32},
		{Name: ColBytes, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColLatencyMS, Type: arrow.PrimitiveTypes.Float64},
		{Name: ColMsg, Type: str},
		{Name: ColHotTerm, Type: str},
		{Name: ColFields, Type: str},
		{Name: ColParseError, Type: str},
		{Name: ColFormat, Type: str},
		{Name: ColRaw, Type: arrow.BinaryTypes.Binary},
		{Name: ColTopic, Type: str},
		{Name: ColPartition, Type: arrow.PrimitiveTypes.Int32},
		{Name: ColOffset, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColUV, Type: str},
		{Name: ColFormatDefault, Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
}

// HasLakeColumns reports whether s has the lake's columns, names and types
// in order. Metadata is ignored: a Parquet reader adds field ids to it.
func HasLakeColumns(s *arrow.Schema) bool {
	return s.NumFields() == ArrowSchema().NumFields() && hasLakePrefix(s)
}

// hasOldLakeColumns reports whether s is the lake schema of files written
// before the uv column or before the format_default column.
func hasOldLakeColumns(s *arrow.Schema) bool {
	n := s.NumFields()
	return (n == columnsBeforeUV || n == columnsBeforeFormatDefault) && hasLakePrefix(s)
}

// hasLakePrefix reports whether the columns s has are the lake's first
// columns, names and types in order.
func hasLakePrefix(s *arrow.Schema) bool {
	want := ArrowSchema()
	if s.NumFields() > want.NumFields() {
		return false
	}
	for i := range s.NumFields() {
		f, g := want.Field(i), s.Field(i)
		if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			return false
		}
	}
	return true
}

// UpgradeRecordBatch returns rec with exactly ArrowSchema: a batch of the
// current schema as is (its schema replaced: a Parquet reader adds field
// ids to the metadata, a writer wants its own schema exactly), a batch of
// a file written before the uv or format_default column with the columns
// it lacks appended (uv "", format_default false). Any other schema is an
// error. The caller releases the result.
func UpgradeRecordBatch(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	s := rec.Schema()
	switch {
	case HasLakeColumns(s):
		return array.NewRecordBatch(ArrowSchema(), rec.Columns(), rec.NumRows()), nil
	case hasOldLakeColumns(s):
		cols := append([]arrow.Array{}, rec.Columns()...)
		if s.NumFields() == columnsBeforeUV {
			b := array.NewStringBuilder(memory.DefaultAllocator)
			defer b.Release()
			for range rec.NumRows() {
				b.Append("")
			}
			uv := b.NewArray()
			defer uv.Release()
			cols = append(cols, uv)
		}
		b := array.NewBooleanBuilder(memory.DefaultAllocator)
		defer b.Release()
		for range rec.NumRows() {
			b.Append(false)
		}
		fd := b.NewArray()
		defer fd.Release()
		cols = append(cols, fd)
		return array.NewRecordBatch(ArrowSchema(), cols, rec.NumRows()), nil
	}
	return nil, fmt.Errorf("schema %s is not the lake schema %s", s, ArrowSchema())
}

// RecordBuilder appends Events to an Arrow record batch of ArrowSchema.
// It is not safe for concurrent use.
type RecordBuilder struct {
	b *array.RecordBuilder
}

// NewRecordBuilder returns an empty builder; mem nil means the Go allocator.
// Release it when done.
func NewRecordBuilder(mem memory.Allocator) *RecordBuilder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &RecordBuilder{b: array.NewRecordBuilder(mem, ArrowSchema())}
}

// Append adds one event as a row.
func (rb *RecordBuilder) Append(ev *Event) {
	f := rb.b.Fields()
	i := 0
	next := func() array.Builder { b := f[i]; i++; return b }
	next().(*array.TimestampBuilder).Append(arrow.Timestamp(ev.Time.UnixMicro()))
	next().(*array.BooleanBuilder).Append(ev.TimeMissing)
	next().(*array.TimestampBuilder).Append(arrow.Timestamp(ev.IngestTime.UnixMicro()))
	for _, s := range []string{ev.Host, ev.Instance, ev.Level, ev.Component, ev.User, ev.IP, ev.Method, ev.Path, ev.Query} {
		next().(*array.StringBuilder).Append(s)
	}
	next().(*array.Int32Builder).Append(ev.Status)
	next().(*array.Int64Builder).Append(ev.Bytes)
	next().(*array.Float64Builder).Append(ev.LatencyMS)
	next().(*array.StringBuilder).Append(ev.Msg)
	next().(*array.StringBuilder).Append(ev.HotTerm)
	next().(*array.StringBuilder).Append(FieldsJSON(ev.Fields))
	next().(*array.StringBuilder).Append(ev.ParseError)
	next().(*array.StringBuilder).Append(ev.Format)
	raw := ev.Raw
	if raw == nil {
		raw = []byte{} // Append(nil) would be a null; the lake has none
	}
	next().(*array.BinaryBuilder).Append(raw)
	next().(*array.StringBuilder).Append(ev.Topic)
	next().(*array.Int32Builder).Append(ev.Partition)
	next().(*array.Int64Builder).Append(ev.Offset)
	next().(*array.StringBuilder).Append(ev.UV)
	next().(*array.BooleanBuilder).Append(ev.FormatDefault)
}

// Len is the number of rows appended since the last NewRecordBatch.
func (rb *RecordBuilder) Len() int { return rb.b.Field(0).Len() }

// NewRecordBatch returns the rows appended so far and resets the builder.
// The caller releases the batch.
func (rb *RecordBuilder) NewRecordBatch() arrow.RecordBatch { return rb.b.NewRecordBatch() }

// Release frees the builder's buffers.
func (rb *RecordBuilder) Release() { rb.b.Release() }

// FieldsJSON is the lake's fields column of an event: the extra fields as
// a JSON object with sorted keys (encoding/json sorts map keys), so equal
// maps give equal bytes; "" when there are none.
//
// Compaction writes it for every row: keys and values of plain printable
// ASCII with nothing JSON or encoding/json's HTML escaping would change
// are joined directly (a quarter of the cost of json.Marshal's reflection
// over the map); anything else goes through json.Marshal, so the bytes
// are always json.Marshal's (TestFieldsJSON).
func FieldsJSON(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	return string(AppendFieldsJSON(nil, m))
}

// AppendFieldsJSON appends FieldsJSON(m) to dst: compaction writes it for
// every row into a buffer it reuses, where a string each was a
// third of the allocations the Parquet writer's side made a demo line.
func AppendFieldsJSON(dst []byte, m map[string]string) []byte {
	if len(m) == 0 {
		return dst
	}
	var arr [8]string
	keys := arr[:0]
	for k, v := range m {
		if !plainJSON(k) || !plainJSON(v) {
			return append(dst, marshalFields(m)...)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, `":"`...)
		dst = append(dst, m[k]...)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// plainJSON reports whether json.Marshal writes s as itself between
// quotes: printable ASCII other than the quote, the backslash and the
// characters it escapes for HTML (<, >, &).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func marshalFields(m map[string]string) string {
	b, err := json.Marshal(m)
	if err != nil {
		// A map[string]string always encodes; invalid UTF-8 is replaced.
		return ""
	}
	return string(b)
}

// EventsFromRecordBatch reads the rows of a record batch of ArrowSchema
// back into Events (times in UTC). It is the inverse of RecordBuilder, used
// to re-parse or inspect lake files from Go. Batches of files written
// before the uv column are read with UV "".
func EventsFromRecordBatch(rec arrow.RecordBatch) ([]Event, error) {
	old := hasOldLakeColumns(rec.Schema())
	ncols := rec.Schema().NumFields()
	if !old && !HasLakeColumns(rec.Schema()) {
		return nil, fmt.Errorf("read events: schema %s, want the lake schema %s", rec.Schema(), ArrowSchema())
	}
	n := int(rec.NumRows())
	out := make([]Event, n)
	col := func(i int) arrow.Array { return rec.Column(i) }
	ts := func(i, row int) time.Time {
		return time.UnixMicro(int64(col(i).(*array.Timestamp).Value(row))).UTC()
	}
	str := func(i, row int) string { return col(i).(*array.String).Value(row) }
	for r := 0; r < n; r++ {
		ev := &out[r]
		ev.Time = ts(0, r)
		ev.TimeMissing = col(1).(*array.Boolean).Value(r)
		ev.IngestTime = ts(2, r)
		for j, p := range []*string{&ev.Host, &ev.Instance, &ev.Level, &ev.Component, &ev.User, &ev.IP, &ev.Method, &ev.Path, &ev.Query} {
			*p = str(3+j, r)
		}
		ev.Status = col(12).(*array.Int32).Value(r)
		ev.Bytes = col(13).(*array.Int64).Value(r)
		ev.LatencyMS = col(14).(*array.Float64).Value(r)
		ev.Msg = str(15, r)
		ev.HotTerm = str(16, r)
		if s := str(17, r); s != "" {
			if err := json.Unmarshal([]byte(s), &ev.Fields); err != nil {
				return nil, fmt.Errorf("read events: row %d: fields %q: %w", r, s, err)
			}
		}
		ev.ParseError = str(18, r)
		ev.Format = str(19, r)
		raw := col(20).(*array.Binary).Value(r)
		ev.Raw = make([]byte, len(raw))
		copy(ev.Raw, raw)
		ev.Topic = str(21, r)
		ev.Partition = col(22).(*array.Int32).Value(r)
		ev.Offset = col(23).(*array.Int64).Value(r)
		if ncols > columnsBeforeUV {
			ev.UV = str(24, r)
		}
		if ncols > columnsBeforeFormatDefault {
			ev.FormatDefault = col(25).(*array.Boolean).Value(r)
		}
	}
	return out, nil
}
