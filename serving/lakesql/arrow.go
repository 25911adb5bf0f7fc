package lakesql

import (
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// The Arrow answer is built from the rows rather than with duckdb-go's
// Arrow interface: that needs the duckdb_arrow build tag on every build of
// the binary. Answers are at most the row limit, so the copy is cheap.

// arrowBatchRows is the most rows in one record batch of the stream.
const arrowBatchRows = 64 * 1024

// MetaTruncated is the schema metadata key of the Arrow answer saying
// whether the row limit cut the answer ("true" or "false").
const MetaTruncated = "loglambda.truncated"

// arrowType maps a DuckDB type to the Arrow type of its column. Types
// without a plain Arrow counterpart here (lists, structs, maps, intervals,
// UUIDs, TIME) are sent as their text, as in CSV.
func arrowType(typ string) arrow.DataType {
	switch typ {
	case "BOOLEAN":
		return arrow.FixedWidthTypes.Boolean
	case "TINYINT":
		return arrow.PrimitiveTypes.Int8
	case "SMALLINT":
		return arrow.PrimitiveTypes.Int16
	case "INTEGER":
		return arrow.PrimitiveTypes.Int32
	case "BIGINT":
		return arrow.PrimitiveTypes.Int64
	case "UTINYINT":
		return arrow.PrimitiveTypes.Uint8
	case "USMALLINT":
		return arrow.PrimitiveTypes.Uint16
	case "UINTEGER":
		return arrow.PrimitiveTypes.Uint32
	case "UBIGINT":
		return arrow.PrimitiveTypes.Uint64
	case "FLOAT":
		return arrow.PrimitiveTypes.Float32
	case "DOUBLE":
		return arrow.PrimitiveTypes.Float64
	case "VARCHAR":
		return arrow.BinaryTypes.String
	case "BLOB":
		return arrow.BinaryTypes.Binary
	case "DATE":
		return arrow.FixedWidthTypes.Date32
	case "TIMESTAMP":
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case "HUGEINT":
		return &arrow.Decimal128Type{Precision: 38, Scale: 0}
	}
	if w, s, ok := decimalParams(typ); ok {
		return &arrow.Decimal128Type{Precision: w, Scale: s}
	}
	return arrow.BinaryTypes.String
}

// decimalParams parses "DECIMAL(18,3)".
func decimalParams(typ string) (width, scale int32, ok bool) {
	inner, found := strings.CutPrefix(typ, "DECIMAL(")
	inner, found2 := strings.CutSuffix(inner, ")")
	if !found || !found2 {
		return 0, 0, false
	}
	ws, ss, found := strings.Cut(inner, ",")
	w, err1 := strconv.Atoi(strings.TrimSpace(ws))
	s, err2 := strconv.Atoi(strings.TrimSpace(ss))
	if !found || err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return int32(w), int32(s), true
}

// WriteArrow writes res as an Arrow IPC stream: one schema (with
// MetaTruncated in its metadata), then record batches of the rows.
func WriteArrow(w io.Writer, res *Result) error {
	fields := make([]arrow.Field, len(res.Columns))
	for i, c := range res.Columns {
		fields[i] = arrow.Field{Name: c.Name, Type: arrowType(c.Type), Nullable: true}
	}
	meta := arrow.NewMetadata([]string{MetaTruncated}, []string{strconv.FormatBool(res.Truncated)})
	schema := arrow.NewSchema(fields, &meta)
	mem := memory.DefaultAllocator
	iw := ipc.NewWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	flush := func() error {
		rec := b.NewRecordBatch()
		defer rec.Release()
		return iw.Write(rec)
	}
	for i, row := range res.Rows {
		for j, v := range row {
			if err := appendArrow(b.Field(j), v, res.Columns[j].Type); err != nil {
				iw.Close()
				return fmt.Errorf("arrow: row %d column %q: %w", i, res.Columns[j].Name, err)
			}
		}
		if (i+1)%arrowBatchRows == 0 {
			if err := flush(); err != nil {
				iw.Close()
				return fmt.Errorf("arrow: %w", err)
			}
		}
	}
	if len(res.Rows)%arrowBatchRows != 0 || len(res.Rows) == 0 {
		if err := flush(); err != nil {
			iw.Close()
			return fmt.Errorf("arrow: %w", err)
		}
	}
	return iw.Close()
}

// appendArrow appends one value to the builder arrowType chose for typ.
func appendArrow(b array.Builder, v any, typ string) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	bad := func() error { return fmt.Errorf("%s value of Go type %T", typ, v) }
	switch b := b.(type) {
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Int8Builder:
		x, ok := v.(int8)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Int16Builder:
		x, ok := v.(int16)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Int32Builder:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Int64Builder:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Uint8Builder:
		x, ok := v.(uint8)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Uint16Builder:
		x, ok := v.(uint16)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Uint32Builder:
		x, ok := v.(uint32)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Uint64Builder:
		x, ok := v.(uint64)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Float32Builder:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Float64Builder:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.BinaryBuilder:
		x, ok := v.([]byte)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Date32Builder:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		b.Append(arrow.Date32FromTime(x))
	case *array.TimestampBuilder:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		b.Append(arrow.Timestamp(x.UnixMicro()))
	case *array.Decimal128Builder:
		var n *big.Int
		switch x := v.(type) {
		case *big.Int:
			n = x
		case duckdb.Decimal:
			n = x.Value
		default:
			return bad()
		}
		b.Append(decimal128.FromBigInt(n))
	case *array.StringBuilder:
		b.Append(textValue(v, typ))
	default:
		return fmt.Errorf("no Arrow builder for %s", typ)
	}
	return nil
}
