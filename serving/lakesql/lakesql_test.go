package lakesql

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/loglambda/loglambda/batch/lake"
)

const nEvents = 3000

// newTestLake writes the test events as the lake of topic under a temp
// root and returns the SQL view of it.
func newTestLake(t *testing.T, topic string, opts ...Opt) (*Lake, string) {
	t.Helper()
	root := t.TempDir()
	evs := testEvents(nEvents)
	for i := range evs {
		evs[i].Topic = topic
	}
	writeLake(t, root, topic, evs)
	l, err := New(root, topic, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l, root
}

// counts runs a two-column query (key, count) and returns count by key.
func counts(t *testing.T, l *Lake, q string) map[string]int64 {
	t.Helper()
	res, err := l.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := map[string]int64{}
	for _, row := range res.Rows {
		out[textValue(row[0], res.Columns[0].Type)] = row[1].(int64)
	}
	return out
}

func TestCounts(t *testing.T) {
	l, _ := newTestLake(t, "logs")
	web, _ := newTestLake(t, "web")
	evs := testEvents(nEvents)
	byHour, byStatus, byTerm, byDay := map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, ev := range evs {
		byHour[strconv.Itoa(ev.Time.UTC().Hour())]++
		byDay[ev.Time.UTC().Format(time.DateOnly)]++
		if ev.ParseError == "" {
			byStatus[strconv.Itoa(int(ev.Status))]++
		}
		if ev.HotTerm != "" {
			byTerm[ev.HotTerm]++
		}
	}
	tests := []struct {
		name string
		lake *Lake
		q    string
		want map[string]int64
	}{
		{"hour partition", l, `SELECT hour, count(*) FROM logs GROUP BY hour`, byHour},
		{"dt partition", l, `SELECT dt, count(*) FROM logs GROUP BY ALL`, byDay},
		{"status of parsed rows", l, `SELECT status, count(*) FROM logs WHERE parse_error = '' GROUP BY status`, byStatus},
		{"hot terms", l, `WITH t AS (SELECT hot_term FROM logs WHERE hot_term <> '') SELECT hot_term, count(*) FROM t GROUP BY 1`, byTerm},
		{"view named after the topic", web, `SELECT hot_term, count(*) FROM web WHERE hot_term <> '' GROUP BY 1`, byTerm},
		{"logs view of another topic", web, `FROM logs SELECT hour, count(*) GROUP BY hour`, byHour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := counts(t, tt.lake, tt.q)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("%s\n got %v\nwant %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestOrphansNotCounted(t *testing.T) {
	root := t.TempDir()
	evs := testEvents(nEvents)
	writeLake(t, root, "logs", evs[:2000])
	// A compaction of the rest that crashed before saving the manifest:
	// its files sit in the hour directories but are not the lake.
	writeOrphan(t, root, "logs", evs[2000:])
	l, err := New(root, "logs")
	if err != nil {
		t.Fatal(err)
	}
	if got := counts(t, l, `SELECT 'all', count(*) FROM logs`)["all"]; got != 2000 {
		t.Errorf("count with an orphan = %d, want the manifest's 2000", got)
	}
	// Without a manifest (a lake copied by hand), every file counts.
	bare := t.TempDir()
	writeOrphan(t, bare, "logs", evs)
	l, err = New(bare, "logs")
	if err != nil {
		t.Fatal(err)
	}
	if got := counts(t, l, `SELECT 'all', count(*) FROM logs`)["all"]; got != nEvents {
		t.Errorf("count without manifest = %d, want %d", got, nEvents)
	}
}

func TestRejected(t *testing.T) {
	l, root := newTestLake(t, "logs")
	out := filepath.Join(t.TempDir(), "out.csv")
	orphan := filepath.Join(root, "logs", lake.HourDir(hour0), "orphan.parquet")
	some, err := filepath.Glob(filepath.Join(root, "logs", lake.HourDir(hour0), "*.parquet"))
	if err != nil || len(some) == 0 {
		t.Fatalf("no lake file to copy: %v", err)
	}
	if err := os.Link(some[0], orphan); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    string
		want error
	}{
		{fmt.Sprintf(`COPY (SELECT * FROM logs) TO '%s'`, out), ErrRejected},
		{`INSERT INTO logs VALUES (1)`, ErrRejected},
		{fmt.Sprintf(`ATTACH '%s' AS x`, filepath.Join(t.TempDir(), "x.db")), ErrRejected},
		{`CREATE TABLE t AS SELECT 1`, ErrRejected},
		{`DROP VIEW logs`, ErrRejected},
		{`PRAGMA version`, ErrRejected},
		{`SET threads = 1`, ErrRejected},
		{`CALL pragma_version()`, ErrRejected},
		{`LOAD json`, ErrRejected},
		{`INSTALL httpfs`, ErrRejected},
		{`SELECT 1; SELECT 2`, ErrRejected},
		{`SELECT 1; DROP VIEW logs`, ErrRejected},
		{`EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1`, ErrRejected},
		{`EXPLAIN (FORMAT json) SELECT 1`, ErrRejected},
		{`/* hi */ pragma version`, ErrRejected},
		{``, ErrRejected},
		{`-- only a comment`, ErrRejected},
		{`SELECT * FROM read_csv('/etc/passwd')`, ErrBadQuery},
		{`SELECT * FROM read_text('/etc/hostname')`, ErrBadQuery},
		{`SELECT * FROM glob('/etc/*')`, ErrBadQuery},
		{fmt.Sprintf(`SELECT count(*) FROM read_parquet('%s')`, orphan), ErrBadQuery},
		{fmt.Sprintf(`SELECT * FROM read_csv('%s')`, filepath.Join(root, "logs", "_manifest.json")), ErrBadQuery},
		{`FROM query('CREATE TABLE t AS SELECT 1')`, ErrBadQuery},
		{`SELECT nosuchcolumn FROM logs`, ErrBadQuery},
		{`SELEC 1`, ErrRejected},
		{`SELECT * FROM`, ErrBadQuery},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			_, err := l.Query(context.Background(), tt.q)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("COPY wrote %s", out)
	}
}

func TestAllowed(t *testing.T) {
	l, _ := newTestLake(t, "logs")
	tests := []struct {
		q        string
		wantRows int
	}{
		{`SELECT 1`, 1},
		{"-- a comment\n/* and another */ SELECT 1", 1},
		{`(SELECT 1) UNION ALL (SELECT 2)`, 2},
		{`VALUES (1), (2), (3)`, 3},
		{`FROM logs LIMIT 5`, 5},
		{`DESCRIBE logs`, 28}, // the lake columns + dt, hour: checked below
		{`SHOW TABLES`, 1},
		{`SUMMARIZE SELECT status FROM logs`, 1},
		{`EXPLAIN SELECT count(*) FROM logs`, 1},
		{`EXPLAIN ANALYZE SELECT count(*) FROM logs`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			res, err := l.Query(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.wantRows
			if strings.HasPrefix(tt.q, "DESCRIBE") {
				want = 26 + 2 // the lake's columns (format_default last), then dt and hour
			}
			if len(res.Rows) != want {
				t.Errorf("%d rows, want %d: %v", len(res.Rows), want, res.Rows)
			}
		})
	}
}

func TestRowLimit(t *testing.T) {
	l, _ := newTestLake(t, "logs", RowLimit(100))
	tests := []struct {
		q         string
		rows      int
		truncated bool
	}{
		{`SELECT "offset" FROM logs`, 100, true},
		{`SELECT "offset" FROM logs LIMIT 100`, 100, false},
		{`SELECT "offset" FROM logs LIMIT 99`, 99, false},
		{`SELECT "offset" FROM logs LIMIT 101`, 100, true},
	}
	for _, tt := range tests {
		res, err := l.Query(context.Background(), tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != tt.rows || res.Truncated != tt.truncated {
			t.Errorf("%s: %d rows truncated %v, want %d %v", tt.q, len(res.Rows), res.Truncated, tt.rows, tt.truncated)
		}
	}
}

func TestTimeout(t *testing.T) {
	l, _ := newTestLake(t, "logs", Timeout(200*time.Millisecond))
	start := time.Now()
	_, err := l.Query(context.Background(), `SELECT count(*) FROM range(1000000000000) a, logs b`)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a timeout", err)
	}
	t.Logf("interrupted after %s: %v", time.Since(start), err)
}

func TestNoLake(t *testing.T) {
	root := t.TempDir()
	l, err := New(root, "logs")
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Query(context.Background(), `SELECT 1`)
	if !errors.Is(err, ErrNoLake) || !strings.Contains(err.Error(), "loglambda batch compact") {
		t.Fatalf("error %v, want ErrNoLake saying how to make one", err)
	}
	if _, err := New(root, "../etc"); err == nil {
		t.Error("topic ../etc accepted")
	}
	if _, err := New(root, "logs", MemoryLimit("1GB'; SET x=1; --")); err == nil {
		t.Error("a memory limit with SQL in it was accepted")
	}
}

// groupKey is one (hour, status) group of the format test.
type groupKey struct {
	hour   int64
	status int32
}

type groupVal struct {
	n, bytes int64
	first    time.Time
}

// TestFormats checks that the CSV and Arrow answers of one query decode
// to the values the test computes from the events.
func TestFormats(t *testing.T) {
	l, _ := newTestLake(t, "logs")
	want := map[groupKey]groupVal{}
	for _, ev := range testEvents(nEvents) {
		k := groupKey{int64(ev.Time.UTC().Hour()), int32(ev.Status)}
		g := want[k]
		if g.n == 0 || ev.Time.Before(g.first) {
			g.first = ev.Time.UTC()
		}
		g.n++
		g.bytes += ev.Bytes
		want[k] = g
	}
	res, err := l.Query(context.Background(), `
		SELECT hour, status, count(*) AS n, sum(bytes) AS bytes, min(ts) AS first
		FROM logs GROUP BY ALL ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("%d groups, want %d", len(res.Rows), len(want))
	}

	var buf bytes.Buffer
	if err := WriteCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "hour,status,n,bytes,first" {
		t.Fatalf("csv header %q", got)
	}
	fromCSV := map[groupKey]groupVal{}
	for _, r := range recs[1:] {
		hour, _ := strconv.ParseInt(r[0], 10, 64)
		status, _ := strconv.ParseInt(r[1], 10, 32)
		n, _ := strconv.ParseInt(r[2], 10, 64)
		b, _ := strconv.ParseInt(r[3], 10, 64)
		first, err := time.Parse(time.RFC3339Nano, r[4])
		if err != nil {
			t.Fatal(err)
		}
		fromCSV[groupKey{hour, int32(status)}] = groupVal{n, b, first}
	}
	if fmt.Sprint(fromCSV) != fmt.Sprint(want) {
		t.Errorf("csv\n got %v\nwant %v", fromCSV, want)
	}

	buf.Reset()
	if err := WriteArrow(&buf, res); err != nil {
		t.Fatal(err)
	}
	rd, err := ipc.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	if v, _ := rd.Schema().Metadata().GetValue(MetaTruncated); v != "false" {
		t.Errorf("arrow %s = %q", MetaTruncated, v)
	}
	fromArrow := map[groupKey]groupVal{}
	for rd.Next() {
		rec := rd.RecordBatch()
		hours := rec.Column(0).(*array.Int64)
		statuses := rec.Column(1).(*array.Int32)
		ns := rec.Column(2).(*array.Int64)
		sums := rec.Column(3).(*array.Decimal128)
		firsts := rec.Column(4).(*array.Timestamp)
		tsType := rec.Schema().Field(4).Type.(*arrow.TimestampType)
		for i := range int(rec.NumRows()) {
			fromArrow[groupKey{hours.Value(i), statuses.Value(i)}] = groupVal{
				ns.Value(i), sums.Value(i).BigInt().Int64(), firsts.Value(i).ToTime(tsType.Unit).UTC(),
			}
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(fromArrow) != fmt.Sprint(want) {
		t.Errorf("arrow\n got %v\nwant %v", fromArrow, want)
	}
}

func TestWriteTable(t *testing.T) {
	res := &Result{
		Columns: []Column{{"term", "VARCHAR"}, {"n", "BIGINT"}, {"note", "VARCHAR"}},
		Rows: [][]any{
			{"duckdb", int64(12), nil},
			{"go", int64(7), "two\nlines"},
		},
		Elapsed: 3 * time.Millisecond,
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, res); err != nil {
		t.Fatal(err)
	}
	want := `term   |  n | note
-------+----+------
duckdb | 12 | NULL
go     |  7 | two
       |    | lines
(2 rows, 3ms)
`
	if buf.String() != want {
		t.Errorf("table\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestLockedDown checks the settings a query runs under, as the query
// itself sees them.
func TestLockedDown(t *testing.T) {
	l, _ := newTestLake(t, "logs", MemoryLimit("256MB"))
	res, err := l.Query(context.Background(), `
		SELECT current_setting('enable_external_access')::VARCHAR,
		       current_setting('lock_configuration')::VARCHAR,
		       current_setting('temp_directory')::VARCHAR,
		       current_setting('autoinstall_known_extensions')::VARCHAR,
		       current_setting('memory_limit')::VARCHAR`)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(res.Rows[0])
	if want := "[false true  false 244.1 MiB]"; got != want {
		t.Errorf("settings %s, want %s", got, want)
	}
}
