// Package ingesttest holds the awkward records that speed's and batch's
// tests both feed through their own decoding path, with what each must
// become. Both layers asserting the same expectations is what keeps a
// record counted the same way on both sides of the batch horizon.
package ingesttest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/schemas/event"
)

// Ingest is the Kafka timestamp of every case's record.
var Ingest = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// Want is what a case's event must hold, written by hand from the record
// (not computed by the code under test). ParseError is a substring; ""
// means the record parses.
type Want struct {
	Format      string
	ParseError  string
	Time        time.Time
	TimeMissing bool
	Path        string
	Status      int32
	HotTerm     string
	UV          string
}

// Case is one record and what it must become.
type Case struct {
	Name    string
	Headers []kgo.RecordHeader
	Value   []byte
	Want    Want
}

func hdr(k, v string) kgo.RecordHeader { return kgo.RecordHeader{Key: k, Value: []byte(v)} }

const combinedLine = `203.0.113.9 - - [20/Nov/2026:09:58:00 +0000] "GET /search?q=lambda HTTP/1.1" 200 512 "-" "curl/8.0"`

// Cases are the records, in partition order, of a topic whose default
// format is json and whose hot term is param:q,Input.
func Cases() []Case {
	ts := time.Date(2026, 11, 20, 9, 59, 30, 0, time.UTC)
	return []Case{
		{Name: "json, no header",
			Value: []byte(`{"ts":"2026-11-20T09:59:30Z","url":"/search?q=kafka","status":200,"ip":"10.0.0.1"}`),
			Want:  Want{Format: "json", Time: ts, Path: "/search", Status: 200, HotTerm: "kafka", UV: "10.0.0.1"}},
		{Name: "two format headers: the first wins",
			Headers: []kgo.RecordHeader{hdr("format", "combined"), hdr("format", "json")},
			Value:   []byte(combinedLine),
			Want: Want{Format: "combined", Time: time.Date(2026, 11, 20, 9, 58, 0, 0, time.UTC), Path: "/search",
				Status: 200, HotTerm: "lambda", UV: "203.0.113.9"}},
		{Name: "combined, user agent cut off: kept and counted",
			Headers: []kgo.RecordHeader{hdr("format", "combined")},
			Value:   []byte(`66.249.66.1 - - [20/Nov/2026:09:58:00 +0000] "GET /search?q=bot HTTP/1.1" 200 235 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html`),
			Want: Want{Format: "combined", Time: time.Date(2026, 11, 20, 9, 58, 0, 0, time.UTC), Path: "/search",
				Status: 200, HotTerm: "bot", UV: "66.249.66.1"}},
		{Name: "empty format header skipped",
			Headers: []kgo.RecordHeader{hdr("format", ""), hdr("format", "combined")},
			Value:   []byte(combinedLine),
			Want: Want{Format: "combined", Time: time.Date(2026, 11, 20, 9, 58, 0, 0, time.UTC), Path: "/search",
				Status: 200, HotTerm: "lambda", UV: "203.0.113.9"}},
		{Name: "unknown format",
			Headers: []kgo.RecordHeader{hdr("format", "xml")},
			Value:   []byte(`<log/>`),
			Want:    Want{Format: "xml", ParseError: `format header: unknown format "xml"`, Time: Ingest, TimeMissing: true}},
		{Name: "unknown format again (cached failure)",
			Headers: []kgo.RecordHeader{hdr("format", "xml")},
			Value:   []byte(`<log/>`),
			Want:    Want{Format: "xml", ParseError: `format header: unknown format "xml"`, Time: Ingest, TimeMissing: true}},
		{Name: "bad time layout",
			Headers: []kgo.RecordHeader{hdr("format", "opts:time-layout=nonsense:json")},
			Value:   []byte(`{"ts":"nonsense","url":"/"}`),
			Want:    Want{Format: "opts:time-layout=nonsense:json", ParseError: "format header:", Time: Ingest, TimeMissing: true}},
		{Name: "good time layout",
			Headers: []kgo.RecordHeader{hdr("format", "opts:time-layout=02.01.2006+15%3A04%3A05:json")},
			Value:   []byte(`{"ts":"20.11.2026 09:59:30","url":"/a?Input=x"}`),
			Want:    Want{Format: "opts:time-layout=02.01.2006+15%3A04%3A05:json", Time: ts, Path: "/a", HotTerm: "x"}},
		{Name: "empty value",
			Value: []byte{},
			Want:  Want{Format: "json", ParseError: "json", Time: Ingest, TimeMissing: true}},
		{Name: "nil value",
			Want: Want{Format: "json", ParseError: "json", Time: Ingest, TimeMissing: true}},
		{Name: "binary junk",
			Value: []byte{0xff, 0xfe, 0x00, 0x01, '{', 0x80},
			Want:  Want{Format: "json", ParseError: "json", Time: Ingest, TimeMissing: true}},
		{Name: "binary junk as combined",
			Headers: []kgo.RecordHeader{hdr("format", "combined")},
			Value:   []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01},
			Want:    Want{Format: "combined", ParseError: "combined:", Time: Ingest, TimeMissing: true}},
	}
}

// Records returns the cases as records of one partition, offsets from 0.
func Records(topic string, partition int32) []*kgo.Record {
	var out []*kgo.Record
	for i, c := range Cases() {
		out = append(out, &kgo.Record{Topic: topic, Partition: partition, Offset: int64(i),
			Headers: c.Headers, Value: c.Value, Timestamp: Ingest})
	}
	return out
}

// Counts are how many records the cases hold and how many do not parse.
func Counts() (events, parseErrors int64) {
	for _, c := range Cases() {
		events++
		if c.Want.ParseError != "" {
			parseErrors++
		}
	}
	return events, parseErrors
}

// Got is the part of an event a Want speaks of, with the raw value.
func Got(ev *event.Event) (Want, []byte) {
	return Want{Format: ev.Format, ParseError: ev.ParseError, Time: ev.Time, TimeMissing: ev.TimeMissing,
		Path: ev.Path, Status: ev.Status, HotTerm: ev.HotTerm, UV: ev.UV}, ev.Raw
}

// Check reports how ev, the event of case c, differs from c.Want; every
// layer's test calls it on the events of its own path.
func Check(t testing.TB, c Case, ev *event.Event) {
	t.Helper()
	got, raw := Got(ev)
	want := c.Want
	if want.ParseError == "" && got.ParseError != "" || !strings.Contains(got.ParseError, want.ParseError) {
		t.Errorf("%s: parse error %q, want one containing %q", c.Name, got.ParseError, want.ParseError)
	}
	got.ParseError, want.ParseError = "", ""
	if got != want {
		t.Errorf("%s:\n got %+v\nwant %+v", c.Name, got, want)
	}
	if raw == nil || !bytes.Equal(raw, c.Value) {
		t.Errorf("%s: raw %q, want %q (never nil)", c.Name, raw, c.Value)
	}
}
