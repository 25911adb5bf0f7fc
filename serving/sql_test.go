package serving

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/serving/lakesql"
)

// writeTestLake writes evs as the lake of topic under root with batch's
// own writer and manifest (a test may use batch; serving's code does not),
// one file per (hour, partition).
func writeTestLake(t *testing.T, root, topic string, evs []event.Event) {
	t.Helper()
	l, err := lake.Open(root, topic)
	if err != nil {
		t.Fatal(err)
	}
	m := lake.NewManifest(topic)
	type key struct {
		hour time.Time
		p    int32
	}
	groups := map[key][]event.Event{}
	for _, ev := range evs {
		k := key{lake.Hour(ev.Time), ev.Partition}
		groups[k] = append(groups[k], ev)
	}
	for k, g := range groups {
		b := event.NewRecordBuilder(nil)
		for i := range g {
			g[i].Offset = int64(i)
			b.Append(&g[i])
		}
		rec := b.NewRecordBatch()
		b.Release()
		rel := lake.FilePath(k.hour, k.p, 0, int64(len(g)-1))
		size, err := l.WriteFile(context.Background(), rel, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		m.AddFiles(lake.File{Path: rel, Partition: k.p, LastOffset: int64(len(g) - 1), Rows: int64(len(g)), Bytes: size, Hour: k.hour})
	}
	if err := l.SaveManifest(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// sqlServer serves the lake of evs with the given SQL limits.
func sqlServer(t *testing.T, evs []event.Event, opts ...Opt) string {
	t.Helper()
	root := t.TempDir()
	if evs != nil {
		writeTestLake(t, root, topic, evs)
	}
	srv, err := New(testDB(t), append([]Opt{Topic(topic), Lake(root)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// postSQL posts body to /v1/sql?format=format and returns the answer.
func postSQL(t *testing.T, base, format, body string) (int, http.Header, []byte) {
	t.Helper()
	u := base + "/v1/sql"
	if format != "" {
		u += "?format=" + format
	}
	resp, data := testkit.Do(t, nil, testkit.Request(t, http.MethodPost, u, strings.NewReader(body), "Content-Type", "text/plain"))
	return resp.StatusCode, resp.Header, data
}

// sqlJSON is the JSON answer, decoded independently of lakesql's types.
type sqlJSON struct {
	Columns []struct{ Name, Type string }
	Rows    [][]any
	// Truncated and ElapsedMS are pointers so a missing field shows.
	Truncated *bool    `json:"truncated"`
	ElapsedMS *float64 `json:"elapsed_ms"`
}

func sqlEvents() []event.Event {
	return gen(genSpec{from: t10, to: t10.Add(3 * time.Hour), perPane: 5, partitions: 2, terms: 20, prefix: "sql", users: 30, ips: 10, seed: 7})
}

func TestSQLCounts(t *testing.T) {
	evs := sqlEvents()
	base := sqlServer(t, evs)
	byHourStatus := map[string]int64{}
	for _, ev := range evs {
		byHourStatus[fmt.Sprintf("%d/%d", ev.Time.UTC().Hour(), ev.Status)]++
	}
	const q = `SELECT hour, status, count(*) AS n FROM logs GROUP BY ALL ORDER BY ALL`
	for _, body := range []string{q, fmt.Sprintf(`{"query": %q}`, q)} {
		code, h, data := postSQL(t, base, "", body)
		if code != http.StatusOK || h.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d %s: %s", code, h.Get("Content-Type"), data)
		}
		var a sqlJSON
		if err := json.Unmarshal(data, &a); err != nil {
			t.Fatal(err)
		}
		if a.Truncated == nil || *a.Truncated || a.ElapsedMS == nil {
			t.Errorf("truncated %v elapsed_ms %v", a.Truncated, a.ElapsedMS)
		}
		if len(a.Columns) != 3 || a.Columns[2].Name != "n" || a.Columns[2].Type != "BIGINT" {
			t.Errorf("columns %+v", a.Columns)
		}
		got := map[string]int64{}
		for _, r := range a.Rows {
			got[fmt.Sprintf("%v/%v", r[0], r[1])] = int64(r[2].(float64))
		}
		if fmt.Sprint(got) != fmt.Sprint(byHourStatus) {
			t.Errorf("counts\n got %v\nwant %v", got, byHourStatus)
		}
	}
}

func TestSQLFormatsAgree(t *testing.T) {
	evs := sqlEvents()
	base := sqlServer(t, evs)
	want := map[string]int64{}
	for _, ev := range evs {
		if ev.HotTerm != "" {
			want[ev.HotTerm]++
		}
	}
	const q = `SELECT hot_term, count(*) AS n FROM logs WHERE hot_term <> '' GROUP BY 1 ORDER BY 1`

	code, h, data := postSQL(t, base, "csv", q)
	if code != http.StatusOK || h.Get("Content-Type") != lakesql.ContentTypeCSV || h.Get("X-Loglambda-Truncated") != "false" {
		t.Fatalf("csv: status %d %v: %s", code, h, data)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	fromCSV := map[string]int64{}
	for _, r := range recs[1:] {
		n, _ := strconv.ParseInt(r[1], 10, 64)
		fromCSV[r[0]] = n
	}

	code, h, data = postSQL(t, base, "arrow", q)
	if code != http.StatusOK || h.Get("Content-Type") != lakesql.ContentTypeArrow {
		t.Fatalf("arrow: status %d %v: %s", code, h, data)
	}
	rd, err := ipc.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	fromArrow := map[string]int64{}
	for rd.Next() {
		rec := rd.RecordBatch()
		terms, ns := rec.Column(0).(*array.String), rec.Column(1).(*array.Int64)
		for i := range int(rec.NumRows()) {
			fromArrow[terms.Value(i)] = ns.Value(i)
		}
	}
	for name, got := range map[string]map[string]int64{"csv": fromCSV, "arrow": fromArrow} {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s\n got %v\nwant %v", name, got, want)
		}
	}
}

func TestSQLErrors(t *testing.T) {
	evs := sqlEvents()
	base := sqlServer(t, evs, SQL(lakesql.RowLimit(5)))
	// A short timeout on a server of its own: the other queries must not
	// hit it on a busy machine.
	slow := sqlServer(t, evs, SQL(lakesql.Timeout(300*time.Millisecond)))
	tests := []struct {
		name, format, body string
		slow               bool
		code               int
		msg                string // in the error message
	}{
		{"syntax", "", `SELECT FROM WHERE`, false, 400, "Parser Error"},
		{"unknown column", "", `SELECT nope FROM logs`, false, 400, "nope"},
		{"copy", "", `COPY (FROM logs) TO '/tmp/loglambda-sql-test.csv'`, false, 400, "COPY"},
		{"insert", "", `INSERT INTO logs VALUES (1)`, false, 400, "INSERT"},
		{"attach", "", `ATTACH '/tmp/x.db'`, false, 400, "ATTACH"},
		{"create", "", `CREATE TABLE t (a INT)`, false, 400, "CREATE"},
		{"pragma", "", `PRAGMA version`, false, 400, "PRAGMA"},
		{"two statements", "", `SELECT 1; SELECT 2`, false, 400, "one statement"},
		{"file outside the lake", "", `SELECT * FROM read_csv('/etc/passwd')`, false, 400, "/etc/passwd"},
		{"empty", "", ``, false, 400, "empty query"},
		{"bad json", "", `{"sql": "SELECT 1"}`, false, 400, "query"},
		{"bad format", "xml", `SELECT 1`, false, 400, "xml"},
		{"too big", "", "SELECT 1 " + strings.Repeat("-", 70<<10), false, 413, "bytes"},
		{"timeout", "", `SELECT count(*) FROM range(1000000000000) a, logs b`, true, 504, "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base
			if tt.slow {
				b = slow
			}
			code, h, data := postSQL(t, b, tt.format, tt.body)
			var e struct{ Error string }
			if err := json.Unmarshal(data, &e); err != nil || h.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d body %q is not a JSON error", code, data)
			}
			if code != tt.code || !strings.Contains(e.Error, tt.msg) {
				t.Errorf("status %d %q, want %d with %q", code, e.Error, tt.code, tt.msg)
			}
		})
	}

	t.Run("row limit", func(t *testing.T) {
		code, h, data := postSQL(t, base, "", `SELECT ts FROM logs`)
		var a sqlJSON
		if err := json.Unmarshal(data, &a); err != nil || code != 200 {
			t.Fatalf("status %d: %s", code, data)
		}
		if len(a.Rows) != 5 || a.Truncated == nil || !*a.Truncated || h.Get("X-Loglambda-Truncated") != "true" {
			t.Errorf("%d rows truncated %v header %q, want 5 rows truncated", len(a.Rows), a.Truncated, h.Get("X-Loglambda-Truncated"))
		}
	})
	t.Run("GET", func(t *testing.T) {
		if code := get(t, base, "/v1/sql", nil); code != http.StatusMethodNotAllowed {
			t.Errorf("GET status %d", code)
		}
	})
}

func TestSQLNoLake(t *testing.T) {
	tests := []struct {
		name string
		base string
		msg  string
	}{
		{"not configured", sqlServer(t, nil, Lake("")), "--lake"},
		{"nothing compacted yet", sqlServer(t, nil), "batch compact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, data := postSQL(t, tt.base, "", `SELECT 1`)
			if code != http.StatusServiceUnavailable || !strings.Contains(string(data), tt.msg) {
				t.Errorf("status %d %s, want 503 with %q", code, data, tt.msg)
			}
		})
	}
}
