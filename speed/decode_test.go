package speed

import (
	"bytes"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest"
	"github.com/loglambda/loglambda/schemas/ingest/ingesttest"
	"github.com/loglambda/loglambda/schemas/views"
)

// TestDecodeCases feeds the awkward records of ingesttest (two format
// headers, unknown format, bad time layout, empty value, binary junk)
// through speed's own path, process, one poll per record, and checks the
// event each became and the counts; batch's TestDecodeCases does the same
// through compaction into the lake, against the same expectations.
func TestDecodeCases(t *testing.T) {
	s, err := New(&mongo.Database{}, []string{"unused"}, settings.Logger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	s.parts[0] = newPartition(testTopic, 0)
	cases := ingesttest.Cases()
	for i, r := range ingesttest.Records(testTopic, 0) {
		s.process(kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: testTopic,
			Partitions: []kgo.FetchPartition{{Partition: 0, Records: []*kgo.Record{r}}}}}}})
		ingesttest.Check(t, cases[i], s.parts[0].lastEvent)
	}
	events, parseErrors := ingesttest.Counts()
	if st := s.Stats(); st.Events != events || st.ParseErrors != parseErrors {
		t.Errorf("speed counted %d events, %d parse errors; want %d and %d", st.Events, st.ParseErrors, events, parseErrors)
	}
}

// TestBorrowedDecodeKeepsNoLine holds speed's borrowed decoding (process
// decodes with ingest.Decoder.DecodeBorrowed: an event's strings are its
// record's bytes) to the rule it rests on: nothing applied keeps them.
// The generated stream is applied twice, every view and the patterns
// miner on: once decoded with copies, once decoded borrowed from one
// buffer that is overwritten after each record is applied. Every pane's
// every view must encode to the same bytes; a view that kept a substring
// of a line would show the overwritten bytes (or other panes' lines).
func TestBorrowedDecodeKeepsNoLine(t *testing.T) {
	s, err := New(&mongo.Database{}, []string{"unused"}, settings.Logger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	lines := generate(11, 1, 40_000, 20*time.Millisecond)[0]
	run := func(borrow bool) *partition {
		p := newPartition(testTopic, 0)
		if err := p.restoreMiner(nil); err != nil {
			t.Fatal(err)
		}
		var buf []byte
		var ev event.Event
		var tl tally
		for off, l := range lines {
			r := &kgo.Record{Value: l.value, Timestamp: l.ingest, Offset: int64(off)}
			if l.format != "" {
				r.Headers = []kgo.RecordHeader{{Key: ingest.FormatHeader, Value: []byte(l.format)}}
			}
			if !borrow {
				s.dec.Decode(&ev, r)
				p.apply(&ev, r.Offset, s, &tl)
				continue
			}
			buf = append(buf[:0], l.value...)
			r.Value = buf
			s.dec.DecodeBorrowed(&ev, r)
			p.apply(&ev, r.Offset, s, &tl)
			for i := range buf {
				buf[i] = '#'
			}
			ev = event.Event{}
		}
		return p
	}
	copied, borrowed := run(false), run(true)
	if len(copied.panes) != len(borrowed.panes) || len(copied.panes) < 5 {
		t.Fatalf("%d panes copied, %d borrowed", len(copied.panes), len(borrowed.panes))
	}
	for key, want := range copied.panes {
		got := borrowed.panes[key]
		if got == nil {
			t.Fatalf("pane %d missing when borrowed", key)
		}
		for _, view := range views.Names {
			a, err := want.pane.Encode(view)
			if err != nil {
				t.Fatal(err)
			}
			b, err := got.pane.Encode(view)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatalf("pane %d view %s: borrowed decoding encodes %d bytes (%q...), copies %d", key, view, len(b), clipBytes(b), len(a))
			}
		}
	}
}

func clipBytes(b []byte) []byte { return b[:min(len(b), 80)] }
