package event

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestArrowSchemaColumns(t *testing.T) {
	want := []struct {
		name string
		typ  arrow.Type
	}{
		{"ts", arrow.TIMESTAMP}, {"time_missing", arrow.BOOL}, {"ingest_ts", arrow.TIMESTAMP},
		{"host", arrow.STRING}, {"instance", arrow.STRING}, {"level", arrow.STRING},
		{"component", arrow.STRING}, {"user", arrow.STRING}, {"ip", arrow.STRING},
		{"method", arrow.STRING}, {"path", arrow.STRING}, {"query", arrow.STRING},
		{"status", arrow.INT32}, {"bytes", arrow.INT64}, {"latency_ms", arrow.FLOAT64},
		{"msg", arrow.STRING}, {"hot_term", arrow.STRING}, {"fields", arrow.STRING},
		{"parse_error", arrow.STRING}, {"format", arrow.STRING}, {"raw", arrow.BINARY},
		{"topic", arrow.STRING}, {"partition", arrow.INT32}, {"offset", arrow.INT64},
		{"uv", arrow.STRING}, {"format_default", arrow.BOOL},
	}
	s := ArrowSchema()
	if s.NumFields() != len(want) {
		t.Fatalf("schema has %d columns, want %d: %s", s.NumFields(), len(want), s)
	}
	for i, w := range want {
		f := s.Field(i)
		if f.Name != w.name || f.Type.ID() != w.typ {
			t.Errorf("column %d = %s %s, want %s %s", i, f.Name, f.Type, w.name, w.typ)
		}
	}
	for _, name := range []string{ColTime, ColIngestTime} {
		f, _ := s.FieldsByName(name)
		ts := f[0].Type.(*arrow.TimestampType)
		if ts.Unit != arrow.Microsecond || ts.TimeZone != "UTC" {
			t.Errorf("%s is %s, want timestamp[us, tz=UTC]", name, ts)
		}
	}
}

func TestRecordBuilderRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 1, 2, 345678000, time.UTC)
	tests := []struct {
		name string
		ev   Event
	}{
		{"access log", Event{
			Time: t0, IngestTime: t0.Add(time.Second), Host: "web-1", User: "alice", IP: "10.0.0.1",
			Method: "GET", Path: "/search", Query: "q=shoes", Status: 200, Bytes: 512, LatencyMS: 12.5,
			HotTerm: "shoes", Fields: map[string]string{"ua": "curl", "a": "1"}, Format: "json",
			Raw: []byte(`{"ts":"..."}`), Topic: "logs", Partition: 3, Offset: 42, UV: "alice", FormatDefault: true,
		}},
		{"app log", Event{
			Time: t0, IngestTime: t0, Instance: "db-2", Level: "ERROR", Component: "pool",
			Msg: "connection refused", Format: "json", Raw: []byte("x"), Topic: "logs", Offset: 1,
		}},
		{"parse error keeps raw", Event{
			Time: t0, TimeMissing: true, IngestTime: t0, ParseError: "json: invalid character",
			Format: "json", Raw: []byte("not json \x00\xff"), Topic: "logs", Partition: 1, Offset: 7,
		}},
		{"empty raw", Event{Time: t0, IngestTime: t0, Raw: []byte{}}},
	}
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := NewRecordBuilder(mem)
	defer b.Release()
	for _, tc := range tests {
		b.Append(&tc.ev)
	}
	if b.Len() != len(tests) {
		t.Fatalf("Len = %d, want %d", b.Len(), len(tests))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if b.Len() != 0 {
		t.Errorf("Len after NewRecordBatch = %d, want 0", b.Len())
	}
	got, err := EventsFromRecordBatch(rec)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range tests {
		if !reflect.DeepEqual(got[i], tc.ev) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", tc.name, got[i], tc.ev)
		}
	}
}

func TestEventsFromRecordBatchRejectsOtherSchema(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(1)
	rec := b.NewRecordBatch()
	defer rec.Release()
	if _, err := EventsFromRecordBatch(rec); err == nil {
		t.Fatal("want an error for a record batch of another schema")
	}
}

// TestOldLakeFilesReadable checks that a record batch of the lake schema
// before the uv column (files already in a lake) still reads, with UV "",
// and upgrades to the current schema for merging.
func TestOldLakeFilesReadable(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 1, 2, 0, time.UTC)
	ev := Event{Time: t0, IngestTime: t0, User: "-", IP: "10.0.0.1", Raw: []byte("x"), Topic: "logs", Offset: 3, UV: "dropped",
		FormatDefault: true}
	b := NewRecordBuilder(nil)
	defer b.Release()
	b.Append(&ev)
	rec := b.NewRecordBatch()
	defer rec.Release()
	oldSchema := arrow.NewSchema(ArrowSchema().Fields()[:columnsBeforeUV], nil)
	old := array.NewRecordBatch(oldSchema, rec.Columns()[:columnsBeforeUV], rec.NumRows())
	defer old.Release()

	got, err := EventsFromRecordBatch(old)
	if err != nil {
		t.Fatal(err)
	}
	want := ev
	want.UV, want.FormatDefault = "", false
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("old file row\n got %+v\nwant %+v", got[0], want)
	}
	up, err := UpgradeRecordBatch(old)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Release()
	if !HasLakeColumns(up.Schema()) {
		t.Fatalf("upgraded schema %s", up.Schema())
	}
	got, err = EventsFromRecordBatch(up)
	if err != nil || !reflect.DeepEqual(got[0], want) {
		t.Errorf("upgraded row %+v (%v), want %+v", got, err, want)
	}
	// A file written before format_default (with uv): UV read, the
	// format taken as the record's own.
	s25 := arrow.NewSchema(ArrowSchema().Fields()[:columnsBeforeFormatDefault], nil)
	old25 := array.NewRecordBatch(s25, rec.Columns()[:columnsBeforeFormatDefault], rec.NumRows())
	defer old25.Release()
	up25, err := UpgradeRecordBatch(old25)
	if err != nil {
		t.Fatal(err)
	}
	defer up25.Release()
	want.UV = ev.UV
	for _, b := range []arrow.RecordBatch{old25, up25} {
		if got, err := EventsFromRecordBatch(b); err != nil || !reflect.DeepEqual(got[0], want) {
			t.Errorf("row of a file before format_default %+v (%v), want %+v", got, err, want)
		}
	}
	other := arrow.NewSchema(ArrowSchema().Fields()[:5], nil)
	short := array.NewRecordBatch(other, rec.Columns()[:5], rec.NumRows())
	defer short.Release()
	if _, err := UpgradeRecordBatch(short); err == nil {
		t.Error("UpgradeRecordBatch of a 5-column batch: want an error")
	}
}

// TestFieldsJSON: the fields column is json.Marshal's bytes for every
// map, whether FieldsJSON joins it directly or falls back.
func TestFieldsJSON(t *testing.T) {
	many := map[string]string{}
	for i := range 12 {
		many[fmt.Sprintf("k%02d", 11-i)] = fmt.Sprint(i)
	}
	for _, tc := range []struct {
		name string
		m    map[string]string
	}{
		{"one", map[string]string{"protocol": "HTTP/1.1"}},
		{"sorted", map[string]string{"referrer": "-", "agent": "curl/8.0", "b": "", "a": "x y"}},
		{"more than eight keys", many},
		{"quote", map[string]string{"a": `say "hi"`}},
		{"backslash", map[string]string{`k\`: "v"}},
		{"html", map[string]string{"q": "<a href=x>&amp;</a>"}},
		{"control", map[string]string{"t": "a\tb\nc\x00"}},
		{"unicode", map[string]string{"msg": "héllo \u2028 ✓"}},
		{"invalid utf-8", map[string]string{"raw": "a\xffb", "\xfe": "k"}},
		{"del", map[string]string{"d": "\x7f"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if got := FieldsJSON(tc.m); got != string(want) {
				t.Errorf("FieldsJSON = %s, json.Marshal = %s", got, want)
			}
			if got := AppendFieldsJSON([]byte("x"), tc.m); string(got) != "x"+string(want) {
				t.Errorf("AppendFieldsJSON after x = %s, want x%s", got, want)
			}
		})
	}
	if got := FieldsJSON(nil); got != "" {
		t.Errorf("FieldsJSON(nil) = %q, want empty", got)
	}
}
