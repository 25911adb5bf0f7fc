package batch

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// duckValue evaluates a SQL expression over one row of named string/double
// columns in DuckDB.
func duckValue(t *testing.T, db *sql.DB, expr string, cols map[string]any, dest any) {
	t.Helper()
	var sel []string
	var args []any
	for name, v := range cols {
		sel = append(sel, fmt.Sprintf(`?::%s AS "%s"`, map[bool]string{true: "VARCHAR", false: "DOUBLE"}[isString(v)], name))
		args = append(args, v)
	}
	q := fmt.Sprintf("SELECT %s FROM (SELECT %s)", expr, strings.Join(sel, ", "))
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(dest); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func isString(v any) bool { _, ok := v.(string); return ok }

// TestUVIDSQL checks that the SQL uv_id is event.Visitor() on every case:
// sqlUVID (hours whose files have no uv column) against event.UVID(), and
// sqlVisitor against event.Visitor() with the uv column set, empty, and
// NULL (a file from before the column, read with union_by_name).
func TestUVIDSQL(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct{ user, ip string }{
		{"alice", "10.0.0.1"}, {"-", "10.0.0.1"}, {"", "10.0.0.1"}, {"", ""}, {"-", ""},
		{"bob", ""}, {" - ", "1.2.3.4"}, {"--", "1.2.3.4"}, {"O'Brien", "::1"}, {"-", "-"},
	}
	for _, tc := range tests {
		ev := event.Event{User: tc.user, IP: tc.ip}
		var got string
		duckValue(t, db, sqlUVID, map[string]any{"user": tc.user, "ip": tc.ip}, &got)
		if want := ev.UVID(); got != want {
			t.Errorf("user %q ip %q: SQL uv_id %q, event.UVID() %q", tc.user, tc.ip, got, want)
		}
		for _, uv := range []*string{nil, ptr(""), ptr("s-42"), ptr("10.9.9.9")} {
			ev.UV = ""
			uvSQL := "NULL::VARCHAR"
			if uv != nil {
				ev.UV = *uv
				uvSQL = "'" + *uv + "'"
			}
			expr := strings.ReplaceAll(sqlVisitor, "uv <>", uvSQL+" <>")
			expr = strings.ReplaceAll(expr, "THEN uv ELSE", "THEN "+uvSQL+" ELSE")
			var got string
			duckValue(t, db, expr, map[string]any{"user": tc.user, "ip": tc.ip}, &got)
			if want := ev.Visitor(); got != want {
				t.Errorf("user %q ip %q uv %s: SQL uv_id %q, event.Visitor() %q", tc.user, tc.ip, uvSQL, got, want)
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestLatencyBucketSQL checks the generated CASE against views.LatencyBucket
// on every bound, just above it and beyond the last.
func TestLatencyBucketSQL(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := []float64{0.001, 0.5, 1e6}
	for _, b := range views.LatencyBounds {
		ms = append(ms, b, b+0.25)
	}
	for _, m := range ms {
		var got int
		duckValue(t, db, latencyBucketSQL(), map[string]any{"latency_ms": m}, &got)
		if want := views.LatencyBucket(m); got != want {
			t.Errorf("latency %v: SQL bucket %d, views.LatencyBucket %d", m, got, want)
		}
	}
}

func TestSQLStringList(t *testing.T) {
	if got, want := sqlStringList([]string{"/a/b.parquet", "it's"}), `['/a/b.parquet', 'it''s']`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestLevelKeySQL checks that the SQL instance_key and level_key are
// views.LevelKeyOf on every case, NULL (a column missing from a file)
// counting as empty.
func TestLevelKeySQL(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct{ instance, host, level string }{
		{"db-1", "web-1", "ERROR"}, {"", "web-1", "WARN"}, {"", "", "INFO"}, {"db-2", "", ""},
		{"", "", ""}, {"-", "h", "-"}, {" ", "h", " "}, {"O'Brien", "", "lvl'x"},
	} {
		ev := event.Event{Instance: tc.instance, Host: tc.host, Level: tc.level}
		want := views.LevelKeyOf(&ev)
		var got views.LevelKey
		cols := map[string]any{"instance": tc.instance, "host": tc.host, "level": tc.level}
		duckValue(t, db, sqlInstanceKey, cols, &got.Instance)
		duckValue(t, db, sqlLevelKey, cols, &got.Level)
		if got != want {
			t.Errorf("%+v: SQL %v, views.LevelKeyOf %v", tc, got, want)
		}
	}
	// NULL columns fall back like empty ones.
	var inst, lvl string
	q := "SELECT " + sqlInstanceKey + ", " + sqlLevelKey + " FROM (SELECT NULL::VARCHAR AS instance, 'h' AS host, NULL::VARCHAR AS level)"
	if err := db.QueryRowContext(context.Background(), q).Scan(&inst, &lvl); err != nil {
		t.Fatal(err)
	}
	if inst != "h" || lvl != "-" {
		t.Errorf("NULL instance and level: %q %q, want h -", inst, lvl)
	}
}
