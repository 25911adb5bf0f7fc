package lakesql

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/event"
)

// The tests write the lake with batch's own writer and manifest: what
// lakesql reads is then exactly what compaction leaves on disk, and a
// change to the manifest that breaks the contract breaks these tests.

var hour0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

var (
	testStatuses = []int32{200, 200, 200, 301, 404, 500}
	testTerms    = []string{"go", "duckdb", "kafka", "", "parquet"}
)

// testEvents returns n events over three hours from two partitions; every
// 17th is a parse error (kept in the lake, with an empty hot term).
func testEvents(n int) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		p := int32(i % 2)
		ev := event.Event{
			Time:       hour0.Add(time.Duration(i) * 3 * time.Hour / time.Duration(n)),
			IngestTime: hour0.Add(4 * time.Hour),
			User:       fmt.Sprintf("u%d", i%11),
			IP:         fmt.Sprintf("10.0.0.%d", i%5),
			Method:     "GET",
			Path:       "/search",
			Status:     testStatuses[i%len(testStatuses)],
			Bytes:      int64(100 + i),
			LatencyMS:  float64(i%50) / 2,
			HotTerm:    testTerms[(i/3)%len(testTerms)],
			Format:     "json",
			Raw:        []byte(fmt.Sprintf(`{"n":%d}`, i)),
			Topic:      "logs",
			Partition:  p,
			Offset:     int64(i / 2),
		}
		if i%17 == 0 {
			ev.ParseError = "bad json"
			ev.HotTerm = ""
		}
		out[i] = ev
	}
	return out
}

// writeLake writes evs into the lake of topic under root, one file per
// (hour, partition), and records them in the manifest.
func writeLake(t testing.TB, root, topic string, evs []event.Event) {
	t.Helper()
	l, err := lake.Open(root, topic)
	if err != nil {
		t.Fatal(err)
	}
	m, err := l.LoadManifest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m.AddFiles(writeFiles(t, l, evs)...)
	if err := l.SaveManifest(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// writeOrphan writes evs as lake files the manifest does not name: what a
// compaction that crashed before saving its manifest leaves behind.
func writeOrphan(t testing.TB, root, topic string, evs []event.Event) {
	t.Helper()
	l, err := lake.Open(root, topic)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, l, evs)
}

func writeFiles(t testing.TB, l *lake.Lake, evs []event.Event) []lake.File {
	t.Helper()
	type key struct {
		hour time.Time
		p    int32
	}
	groups := map[key][]event.Event{}
	var order []key
	for _, ev := range evs {
		k := key{lake.Hour(ev.Time), ev.Partition}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], ev)
	}
	var files []lake.File
	for _, k := range order {
		g := groups[k]
		first, last := g[0].Offset, g[len(g)-1].Offset
		rel := lake.FilePath(k.hour, k.p, first, last)
		rec := testkit.Record(g)
		size, err := l.WriteFile(context.Background(), rel, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, lake.File{Path: rel, Partition: k.p, FirstOffset: first, LastOffset: last, Rows: int64(len(g)), Bytes: size, Hour: k.hour})
	}
	return files
}
