package ingest_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// FuzzDecode feeds the one decoder speed and batch share arbitrary record
// values under arbitrary "format" headers: it never panics, the event
// keeps the value as its raw line byte for byte and the record's
// provenance, and a line it could not parse carries a parse error (so it
// is counted and kept, never dropped). The seed corpus runs in every test
// run; `go test -fuzz FuzzDecode ./schemas/ingest` explores further.
func FuzzDecode(f *testing.F) {
	for _, s := range []struct{ format, value string }{
		{"", `{"ts":"2026-12-07T10:00:00Z","level":"INFO","msg":"ok"}`},
		{"json", `{"ts":"not a time","msg":`},
		{"combined", `127.0.0.1 - - [07/Dec/2026:10:00:00 +0000] "GET /a?q=x HTTP/1.1" 200 12 "-" "curl"`},
		{"combined", `127.0.0.1 - - [07/Dec/2026:10:00`},
		{"common", "\x00\xff\xfe binary \x01"},
		{"regex:(?P<level>[A-Z]+) (?P<msg>.*)", "INFO hello"},
		{"no-such-format", "anything"},
		{"json:ts=@timestamp", `{"@timestamp":"9999-99-99T99:99:99Z"}`},
		{"logfmt", "level=info msg=\"unterminated"},
		{"", ""},
	} {
		f.Add(s.format, []byte(s.value))
	}
	dec := ingest.Spec{}.MustParse().NewDecoder()
	f.Fuzz(func(t *testing.T, format string, value []byte) {
		rec := &kgo.Record{Topic: "logs", Partition: 2, Offset: 41, Value: value, Timestamp: time.Unix(1796640000, 0)}
		if format != "" {
			rec.Headers = []kgo.RecordHeader{{Key: ingest.FormatHeader, Value: []byte(format)}}
		}
		var ev event.Event
		dec.Decode(&ev, rec)
		if !bytes.Equal(ev.Raw, value) || ev.Raw == nil {
			t.Fatalf("raw %q, want the value %q", ev.Raw, value)
		}
		if ev.Topic != "logs" || ev.Partition != 2 || ev.Offset != 41 {
			t.Fatalf("provenance %s/%d/%d", ev.Topic, ev.Partition, ev.Offset)
		}
		if ev.Time.IsZero() {
			t.Fatalf("no time (parse error %q)", ev.ParseError)
		}
	})
}
