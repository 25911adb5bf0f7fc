package lakesql

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// jsonValue turns a value duckdb-go returned into one encoding/json writes
// without loss or failure: exact decimals and 128-bit integers as JSON
// numbers, times as RFC 3339 UTC, NaN and infinities (which JSON lacks)
// as strings, maps as lists of {key, value} (their keys need not be
// strings), blobs as text.
func jsonValue(v any, typ string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		return blobText(x, typ)
	case time.Time:
		return timeText(x, typ)
	case duckdb.Decimal:
		return json.Number(x.String())
	case *big.Int:
		return json.Number(x.String())
	case float32:
		return floatJSON(float64(x))
	case float64:
		return floatJSON(x)
	case duckdb.Interval:
		return intervalText(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e, "")
		}
		return out
	case duckdb.Map:
		out := make([]map[string]any, 0, len(x))
		for k, e := range x {
			out = append(out, map[string]any{"key": jsonValue(k, ""), "value": jsonValue(e, "")})
		}
		return out
	}
	return v
}

// textValue is the text of a value in CSV and tables: numbers as Go
// prints them exactly, times as in JSON, nested values as JSON. NULL is
// the empty string.
func textValue(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(x)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []byte:
		return blobText(x, typ)
	case time.Time:
		return timeText(x, typ)
	case duckdb.Decimal:
		return x.String()
	case *big.Int:
		return x.String()
	case duckdb.Interval:
		return intervalText(x)
	}
	b, err := json.Marshal(jsonValue(v, typ))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// blobText is a BLOB as text: valid UTF-8 as is (the lake's raw lines),
// other bytes as \xNN like DuckDB prints them; a UUID in its usual form.
func blobText(b []byte, typ string) string {
	if typ == "UUID" && len(b) == 16 {
		h := hex.EncodeToString(b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&sb, `\x%02X`, b[0])
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

// timeText formats a time by its column type: DATE as 2006-01-02, TIME as
// 15:04:05.999999, timestamps as RFC 3339 UTC like every loglambda answer.
func timeText(t time.Time, typ string) string {
	switch typ {
	case "DATE":
		return t.Format(time.DateOnly)
	case "TIME", "TIME WITH TIME ZONE", "TIMETZ":
		return t.Format("15:04:05.999999")
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// intervalText writes an INTERVAL as DuckDB does: "1 month 2 days 00:00:03".
func intervalText(i duckdb.Interval) string {
	var parts []string
	if i.Months != 0 {
		parts = append(parts, plural(int64(i.Months), "month"))
	}
	if i.Days != 0 {
		parts = append(parts, plural(int64(i.Days), "day"))
	}
	if i.Micros != 0 || len(parts) == 0 {
		parts = append(parts, (time.Duration(i.Micros) * time.Microsecond).String())
	}
	return strings.Join(parts, " ")
}

func plural(n int64, unit string) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// floatJSON is a float JSON can hold, or its name when it is NaN or
// infinite.
func floatJSON(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}
