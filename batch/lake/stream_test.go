package lake

import (
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/loglambda/loglambda/schemas/event"
)

// fullEvents returns n events of partition p from offset first with every
// column set to something that varies, the odd ones a parse error
// without a time, every seventh with extra fields and no raw line.
func fullEvents(p int32, first int64, n int) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		off := first + int64(i)
		ev := event.Event{
			Time: hour0.Add(time.Duration(off) * time.Millisecond).Add(time.Duration(off%1000) * time.Microsecond), IngestTime: hour0.Add(time.Hour + time.Duration(off)*time.Microsecond),
			Host: fmt.Sprintf("web-%d", off%5), Instance: fmt.Sprintf("i-%d", off%3), Level: []string{"INFO", "WARN", "ERROR"}[off%3],
			Component: fmt.Sprintf("c%d", off%11), User: fmt.Sprintf("u%d", off), IP: fmt.Sprintf("10.0.%d.%d", off%256, off/256%256),
			Method: "GET", Path: fmt.Sprintf("/p/%d", off%97), Query: fmt.Sprintf("q=%d", off), Status: int32(200 + off%5),
			Bytes: off * 3, LatencyMS: float64(off) / 7, Msg: fmt.Sprintf("message %d", off), HotTerm: fmt.Sprintf("t%d", off%13),
			Format: "json", Raw: []byte(fmt.Sprintf(`{"n":%d}`, off)), Topic: "logs", Partition: p, Offset: off, UV: fmt.Sprintf("v%d", off%17),
		}
		if off%2 == 1 {
			ev = event.Event{Time: ev.IngestTime, TimeMissing: true, IngestTime: ev.IngestTime, ParseError: "not json",
				Format: "json", Raw: ev.Raw, Topic: "logs", Partition: p, Offset: off}
		}
		if off%7 == 0 {
			ev.Fields = map[string]string{"k": fmt.Sprint(off), "a": "b"}
			ev.Raw = []byte{}
		}
		out[i] = ev
	}
	return out
}

// TestStreamSchema: a file compaction streams (parquet-go) reads back
// through pqarrow with exactly the lake's Arrow schema and the events
// written, across row groups, and merges with a file pqarrow wrote.
func TestStreamSchema(t *testing.T) {
	ctx := context.Background()
	l := tempLake(t)
	n := streamRowGroupRows + streamRowGroupRows/2 + 3
	evs := fullEvents(2, 100, n)
	s, err := l.CreateStream(hour0, 2, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if err := s.Append(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	rel, size, err := s.Commit(ctx, 100, 100+int64(n)-1)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(l.Abs(rel)); err != nil || st.Size() != size {
		t.Fatalf("committed %s of %d bytes: %v", rel, size, err)
	}

	f, err := os.Open(l.Abs(rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRowGroups() != 2 {
		t.Fatalf("%d row groups, want 2 of at most %d rows", pf.NumRowGroups(), streamRowGroupRows)
	}
	// Readers prune by the column chunks' statistics: the time column's
	// bounds are each row group's own (page headers carry none).
	for g := 0; g < pf.NumRowGroups(); g++ {
		cc, err := pf.MetaData().RowGroup(g).ColumnChunk(0)
		if err != nil {
			t.Fatal(err)
		}
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasMinMax() {
			t.Fatalf("row group %d: no min/max on %s (%v)", g, event.ColTime, err)
		}
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for _, ev := range evs[g*streamRowGroupRows : min((g+1)*streamRowGroupRows, n)] {
			lo, hi = min(lo, ev.Time.UnixMicro()), max(hi, ev.Time.UnixMicro())
		}
		ts := st.(*metadata.Int64Statistics)
		if ts.Min() != lo || ts.Max() != hi {
			t.Fatalf("row group %d: %s bounds %d-%d, rows hold %d-%d", g, event.ColTime, ts.Min(), ts.Max(), lo, hi)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if !event.HasLakeColumns(sc) {
		t.Fatalf("stream file schema\n%s\nis not the lake schema\n%s", sc, event.ArrowSchema())
	}

	got, err := l.ReadFile(ctx, rel)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("read %d rows, wrote %d", len(got), n)
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], evs[i]) {
			t.Fatalf("row %d read back\n%+v\nwrote\n%+v", i, got[i], evs[i])
		}
	}

	old := writeEvents(t, l, 2, 100+int64(n), 10)
	merged := FilePath(hour0, 2, 100, 100+int64(n)+9)
	if _, rows, err := l.Merge(ctx, merged, []string{rel, old.Path}); err != nil || rows != int64(n)+10 {
		t.Fatalf("merge: %d rows, %v; want %d", rows, err, n+10)
	}
	back, err := l.ReadFile(ctx, merged)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, append(append([]event.Event{}, evs...), testEvents(2, 100+int64(n), 10)...)) {
		t.Fatal("merged file differs from its inputs")
	}
}
