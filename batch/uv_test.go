package batch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/formats"
)

// uvEvents returns n access-log events in the first 3 minutes of base,
// with users on every third event, and UV set by rule (nil: no rule, as in
// files written before the uv column).
func uvEvents(n, seed int, rule *formats.UVField) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		ev := &out[i]
		ev.Time = base.Add(time.Duration(i) * 3 * time.Minute / time.Duration(n))
		ev.IngestTime = ev.Time
		ev.IP = fmt.Sprintf("10.0.%d.%d", seed, i%17)
		ev.User = "-"
		if i%3 == 0 {
			ev.User = fmt.Sprintf("user%d", i%5)
		}
		ev.Raw = []byte("x")
		ev.Topic, ev.Offset = "logs", int64(i)
		rule.Apply(ev)
	}
	return out
}

// writeLakeFile writes evs as a Parquet file at rel under l, with the
// current lake schema or (old) the one before the uv column.
func writeLakeFile(t *testing.T, l *lake.Lake, rel string, evs []event.Event, old bool) {
	t.Helper()
	rb := event.NewRecordBuilder(nil)
	defer rb.Release()
	for i := range evs {
		rb.Append(&evs[i])
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	if !old {
		if _, err := l.WriteFile(context.Background(), rel, rec); err != nil {
			t.Fatal(err)
		}
		return
	}
	n := event.ArrowSchema().NumFields() - 2 // without uv and format_default
	schema := arrow.NewSchema(event.ArrowSchema().Fields()[:n], nil)
	oldRec := array.NewRecordBatch(schema, rec.Columns()[:n], rec.NumRows())
	defer oldRec.Release()
	p := l.Abs(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := pqarrow.NewFileWriter(schema, f, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(oldRec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRecomputeUVColumn checks the visitor batch counts against
// event.Visitor computed in Go, over lake files with the uv column, files
// from before it (counted by the default user/ip rule, as when they were
// written) and both mixed in one hour.
func TestRecomputeUVColumn(t *testing.T) {
	ctx := context.Background()
	ipRule, _ := formats.NewUVField("ip")
	oldEvs := uvEvents(300, 1, nil)
	newEvs := uvEvents(300, 2, ipRule)
	l, err := lake.Open(t.TempDir(), "logs")
	if err != nil {
		t.Fatal(err)
	}
	writeLakeFile(t, l, "old.parquet", oldEvs, true)
	writeLakeFile(t, l, "new.parquet", newEvs, false)

	conn, closeDuck, err := duckConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDuck()
	b := &Batch{cfg: defaultCfg(), lake: l}

	for _, tc := range []struct {
		name  string
		files []string
		evs   []event.Event
	}{
		{"old files only", []string{"old.parquet"}, oldEvs},
		{"new files only", []string{"new.parquet"}, newEvs},
		{"old and new", []string{"old.parquet", "new.parquet"}, append(append([]event.Event{}, oldEvs...), newEvs...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := map[time.Time]map[string]bool{}
			for i := range tc.evs {
				p := tc.evs[i].Time.Truncate(time.Minute)
				if want[p] == nil {
					want[p] = map[string]bool{}
				}
				want[p][tc.evs[i].Visitor()] = true
			}
			paths := make([]string, len(tc.files))
			for i, f := range tc.files {
				paths[i] = l.Abs(f)
			}
			panes, err := b.hourPanes(ctx, conn, paths, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(panes) != len(want) {
				t.Fatalf("%d panes, want %d", len(panes), len(want))
			}
			for p, ids := range want {
				if got := panes[p].Traffic.ExactUV; got != int64(len(ids)) {
					t.Errorf("pane %s: exact UV %d, want %d", p.Format("15:04"), got, len(ids))
				}
			}
		})
	}

	// Merging an old file with a new one keeps both readable: UV "" for
	// the old rows, the rule's value for the new.
	if _, _, err := l.Merge(ctx, "merged.parquet", []string{"old.parquet", "new.parquet"}); err != nil {
		t.Fatal(err)
	}
	got, err := l.ReadFile(ctx, "merged.parquet")
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]event.Event{}, oldEvs...), newEvs...)
	if len(got) != len(want) {
		t.Fatalf("merged %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.UV != w.UV || g.IP != w.IP || g.User != w.User || !reflect.DeepEqual(g.Time, w.Time) {
			t.Fatalf("merged row %d: uv %q ip %q user %q, want %q %q %q", i, g.UV, g.IP, g.User, w.UV, w.IP, w.User)
		}
	}
}
