package lakesql

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Content types of the answers.
const (
	ContentTypeJSON  = "application/json"
	ContentTypeCSV   = "text/csv; charset=utf-8"
	ContentTypeArrow = "application/vnd.apache.arrow.stream"
)

// jsonAnswer is the JSON answer of a query.
type jsonAnswer struct {
	Columns   []Column `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
	ElapsedMS float64  `json:"elapsed_ms"`
}

// WriteJSON writes res as {"columns":[{"name","type"}],"rows":[[...]],
// "truncated","elapsed_ms"}.
func WriteJSON(w io.Writer, res *Result) error {
	a := jsonAnswer{
		Columns:   res.Columns,
		Rows:      make([][]any, len(res.Rows)),
		Truncated: res.Truncated,
		ElapsedMS: float64(res.Elapsed.Microseconds()) / 1000,
	}
	if a.Columns == nil {
		a.Columns = []Column{}
	}
	for i, row := range res.Rows {
		out := make([]any, len(row))
		for j, v := range row {
			out[j] = jsonValue(v, res.Columns[j].Type)
		}
		a.Rows[i] = out
	}
	return json.NewEncoder(w).Encode(a)
}

// WriteCSV writes res as CSV with a header row of column names; NULL is
// an empty field.
func WriteCSV(w io.Writer, res *Result) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(res.Columns))
	for _, row := range res.Rows {
		for j, v := range row {
			rec[j] = textValue(v, res.Columns[j].Type)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes res as an aligned text table for people: numbers to
// the right, NULL spelled out, values with line breaks (EXPLAIN's plans)
// over several lines, and a footer with the row count and time.
func WriteTable(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	n := len(res.Columns)
	cells := make([][][]string, len(res.Rows)) // row, column, line
	width := make([]int, n)
	right := make([]bool, n)
	for j, c := range res.Columns {
		width[j] = utf8.RuneCountInString(c.Name)
		right[j] = numericType(c.Type)
	}
	for i, row := range res.Rows {
		cells[i] = make([][]string, n)
		for j, v := range row {
			s := "NULL"
			if v != nil {
				s = textValue(v, res.Columns[j].Type)
			}
			lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
			for _, l := range lines {
				width[j] = max(width[j], utf8.RuneCountInString(l))
			}
			cells[i][j] = lines
		}
	}
	pad := func(s string, j int, alignRight bool) string {
		gap := strings.Repeat(" ", width[j]-utf8.RuneCountInString(s))
		if alignRight {
			return gap + s
		}
		return s + gap
	}
	line := func(vals []string, alignRight []bool) {
		for j, v := range vals {
			if j > 0 {
				bw.WriteString(" | ")
			}
			r := alignRight != nil && alignRight[j]
			if j == len(vals)-1 && !r {
				bw.WriteString(v) // no trailing blanks
				continue
			}
			bw.WriteString(pad(v, j, r))
		}
		bw.WriteString("\n")
	}
	header := make([]string, n)
	sep := make([]string, n)
	for j, c := range res.Columns {
		header[j] = c.Name
		sep[j] = strings.Repeat("-", width[j])
	}
	line(header, right)
	bw.WriteString(strings.Join(sep, "-+-") + "\n")
	for _, row := range cells {
		height := 1
		for _, c := range row {
			height = max(height, len(c))
		}
		for k := range height {
			vals := make([]string, n)
			for j, c := range row {
				if k < len(c) {
					vals[j] = c[k]
				}
			}
			line(vals, right)
		}
	}
	rows := "rows"
	if len(res.Rows) == 1 {
		rows = "row"
	}
	fmt.Fprintf(bw, "(%d %s, %s)\n", len(res.Rows), rows, res.Elapsed.Round(time.Millisecond))
	if res.Truncated {
		fmt.Fprintf(bw, "(truncated at %d rows: add a LIMIT or an aggregate, or raise the row limit)\n", len(res.Rows))
	}
	return bw.Flush()
}

// numericType reports whether a DuckDB type is a number, right-aligned in
// tables.
func numericType(typ string) bool {
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
		"FLOAT", "DOUBLE":
		return true
	}
	return strings.HasPrefix(typ, "DECIMAL")
}
