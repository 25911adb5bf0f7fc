package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/serving/lakesql"
)

// sqlTestLake writes n events (statuses 200/404/500, two hours) as the
// lake of topic "logs" with batch's writer, and returns the lake root and
// the count of each (hour, status).
func sqlTestLake(t *testing.T, n int) (string, map[[2]int]int) {
	t.Helper()
	root := t.TempDir()
	l, err := lake.Open(root, "logs")
	if err != nil {
		t.Fatal(err)
	}
	h0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	want := map[[2]int]int{}
	m := lake.NewManifest("logs")
	for h := range 2 {
		hour := h0.Add(time.Duration(h) * time.Hour)
		b := event.NewRecordBuilder(nil)
		for i := range n / 2 {
			ev := event.Event{
				Time: hour.Add(time.Duration(i) * time.Second), Status: []int32{200, 200, 404, 500}[i%4],
				IP: "10.0.0.1", Format: "json", Topic: "logs", Offset: int64(h*n + i),
			}
			want[[2]int{hour.Hour(), int(ev.Status)}]++
			b.Append(&ev)
		}
		rec := b.NewRecordBatch()
		b.Release()
		first, last := int64(h*n), int64(h*n+n/2-1)
		rel := lake.FilePath(hour, 0, first, last)
		size, err := l.WriteFile(context.Background(), rel, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		m.AddFiles(lake.File{Path: rel, FirstOffset: first, LastOffset: last, Rows: int64(n / 2), Bytes: size, Hour: hour})
	}
	if err := l.SaveManifest(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return root, want
}

func TestSQLCommand(t *testing.T) {
	root, want := sqlTestLake(t, 200)
	const q = `SELECT hour, status, count(*) AS n FROM logs GROUP BY ALL ORDER BY ALL`

	// The table, built from the counts the test wrote.
	keys := make([][2]int, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	var table strings.Builder
	table.WriteString("hour | status |  n\n-----+--------+---\n")
	for _, k := range keys {
		fmt.Fprintf(&table, "%4d | %6d | %2d\n", k[0], k[1], want[k])
	}
	fmt.Fprintf(&table, "(%d rows, ", len(keys))

	t.Run("table", func(t *testing.T) {
		var out bytes.Buffer
		if err := runSQL(context.Background(), []string{"--lake", root, q}, nil, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), table.String()) {
			t.Errorf("table\n%s\nwant\n%s...", out.String(), table.String())
		}
	})
	t.Run("json from stdin", func(t *testing.T) {
		var out bytes.Buffer
		if err := runSQL(context.Background(), []string{"--lake", root, "--format", "json", "-"}, strings.NewReader(q), &out); err != nil {
			t.Fatal(err)
		}
		var a struct{ Rows [][]float64 }
		if err := json.Unmarshal(out.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		got := map[[2]int]int{}
		for _, r := range a.Rows {
			got[[2]int{int(r[0]), int(r[1])}] = int(r[2])
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("json counts %v, want %v", got, want)
		}
	})
	t.Run("limit", func(t *testing.T) {
		var out bytes.Buffer
		if err := runSQL(context.Background(), []string{"--lake", root, "--limit", "3", "SELECT", "status", "FROM", "logs"}, nil, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "(3 rows, ") || !strings.Contains(out.String(), "truncated at 3 rows") {
			t.Errorf("output\n%s\nsays neither 3 rows nor truncated", out.String())
		}
	})
	t.Run("env format is the parser's", func(t *testing.T) {
		t.Setenv("LOGLAMBDA_FORMAT", "combined")
		var out bytes.Buffer
		if err := runSQL(context.Background(), []string{"--lake", root, q}, nil, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), table.String()) {
			t.Errorf("with $LOGLAMBDA_FORMAT=combined: %s", out.String())
		}
	})

	errs := []struct {
		name string
		args []string
		is   error
		msg  string
	}{
		{"no lake", []string{"--lake", t.TempDir(), q}, lakesql.ErrNoLake, "loglambda batch compact"},
		{"rejected", []string{"--lake", root, "COPY (FROM logs) TO '/tmp/x.csv'"}, lakesql.ErrRejected, "COPY"},
		{"bad sql", []string{"--lake", root, "SELECT nope FROM logs"}, lakesql.ErrBadQuery, "nope"},
		{"bad format", []string{"--lake", root, "--format", "xml", q}, nil, "--format"},
		{"empty stdin", []string{"--lake", root, "-"}, nil, "stdin was empty"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			err := runSQL(context.Background(), tt.args, strings.NewReader(""), &bytes.Buffer{})
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want %v with %q", err, tt.is, tt.msg)
			}
		})
	}
}
