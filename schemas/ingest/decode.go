package ingest

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/formats"
)

// FormatHeader is the Kafka record header naming the parser spec of the
// record's value (formats.New); producers (ship, gen) write it.
const FormatHeader = "format"

// MaxParsers bounds a Decoder's parser cache against junk format headers:
// past it, a spec not seen before is built for its record and not kept.
const MaxParsers = 64

// Decoder turns records and lines into events by the Rules. It caches a
// parser per format header (failures included, so a bad header is not
// rebuilt per record); parsers are not safe for concurrent use, so neither
// is a Decoder: one per goroutine.
type Decoder struct {
	rules   Rules
	def     formats.Parser
	parsers map[string]entry
	// lastSpec and lastEntry are the previous header and its parser:
	// producers send one format per topic, so this spares a map lookup.
	lastSpec  string
	lastEntry entry
}

type entry struct {
	p   formats.Parser
	err error
}

// NewDecoder returns a Decoder of r. The zero Rules decode with the
// defaults.
func (r Rules) NewDecoder() *Decoder {
	if r.hot == nil {
		r = Spec{}.MustParse()
	}
	def, err := formats.New(r.format)
	if err != nil { // Parse built it once already
		panic(fmt.Errorf("%w: %v", errNoRules, err))
	}
	return &Decoder{rules: r, def: def, parsers: map[string]entry{}}
}

// Rules returns the rules the decoder applies.
func (d *Decoder) Rules() Rules { return d.rules }

// Decode overwrites ev with the event of rec, never failing: the parser is
// the one the record's first non-empty "format" header names, else the
// default format. A header naming no known format makes the record a parse
// error, kept (raw value, ingest time) and counted like any other. The
// event carries rec's topic, partition and offset.
func (d *Decoder) Decode(ev *event.Event, rec *kgo.Record) {
	d.decodeRecord(ev, rec, false)
}

// DecodeBorrowed is Decode with the event's strings sharing rec.Value's
// bytes instead of a copy of them (formats.ParseBorrowedTo): for a
// consumer that copies out the fields it keeps before it lets rec go
// (compaction's Parquet pages, speed's views, which copy the strings
// they key by), never for one that keeps the event's strings themselves
// (a kept field holds its whole record).
func (d *Decoder) DecodeBorrowed(ev *event.Event, rec *kgo.Record) {
	d.decodeRecord(ev, rec, true)
}

func (d *Decoder) decodeRecord(ev *event.Event, rec *kgo.Record, borrow bool) {
	p := d.def
	spec := headerFormat(rec.Headers)
	if spec != nil {
		e := d.parser(spec)
		if e.err != nil {
			ts := rec.Timestamp.UTC()
			*ev = event.Event{Raw: rec.Value, Time: ts, TimeMissing: true, IngestTime: ts, Format: d.lastSpec,
				ParseError: e.err.Error()}
			d.finish(ev, rec)
			return
		}
		p = e.p
	}
	if borrow {
		formats.ParseBorrowedTo(ev, p, d.rules.hot, rec.Value, rec.Timestamp)
		d.rules.uv.Apply(ev)
	} else {
		d.decode(ev, p, rec.Value, rec.Timestamp)
	}
	ev.FormatDefault = spec == nil
	d.finish(ev, rec)
}

// DecodeStored overwrites ev with the event of a record kept in the lake
// (stored: a row read back, event.EventsFromRecordBatch), decoded again by
// these rules: the record rebuilt from the row's raw value, its ingest
// time (the record's timestamp) and provenance, and its format column as
// the format header unless the row took the default format
// (FormatDefault). So new rules (default format, hot term, visitor) reach
// the rows compacted before them exactly as speed's replay of the same
// records reaches them, through the same Decode. A row of a lake file
// written before format_default was kept reads FormatDefault false: it
// keeps the format it was parsed with.
func (d *Decoder) DecodeStored(ev *event.Event, stored *event.Event) {
	rec := kgo.Record{Value: stored.Raw, Timestamp: stored.IngestTime, Topic: stored.Topic,
		Partition: stored.Partition, Offset: stored.Offset}
	if stored.Format != "" && !stored.FormatDefault {
		rec.Headers = []kgo.RecordHeader{{Key: FormatHeader, Value: []byte(stored.Format)}}
	}
	d.Decode(ev, &rec)
}

// DecodeLine overwrites ev with the event of one line in the default
// format, read at ingest (ship, patterns: no record, no header).
func (d *Decoder) DecodeLine(ev *event.Event, line []byte, ingest time.Time) {
	d.decode(ev, d.def, line, ingest)
	ev.FormatDefault = true
	if ev.Raw == nil {
		ev.Raw = []byte{}
	}
}

// Parser returns the default format's parser.
func (d *Decoder) Parser() formats.Parser { return d.def }

func (d *Decoder) decode(ev *event.Event, p formats.Parser, value []byte, ingest time.Time) {
	formats.ParseLineTo(ev, p, d.rules.hot, value, ingest)
	d.rules.uv.Apply(ev)
}

// finish sets what every decoded record carries: provenance, and a non-nil
// raw value (the lake's raw column is not nullable).
func (d *Decoder) finish(ev *event.Event, rec *kgo.Record) {
	if ev.Raw == nil {
		ev.Raw = []byte{}
	}
	ev.Topic, ev.Partition, ev.Offset = rec.Topic, rec.Partition, rec.Offset
}

// headerFormat is the header rule: the first "format" header with a
// value, nil when there is none. A producer writes one; a record with two
// was rewritten on the way, and the first is the producer's.
func headerFormat(hs []kgo.RecordHeader) []byte {
	for _, h := range hs {
		if h.Key == FormatHeader && len(h.Value) > 0 {
			return h.Value
		}
	}
	return nil
}

// parser returns the parser of a format header value, from the cache when
// it was seen before, and remembers it as the last one. Comparing the
// bytes with the last spec first spares a string allocation per record.
func (d *Decoder) parser(b []byte) entry {
	if d.lastSpec != "" && string(b) == d.lastSpec {
		return d.lastEntry
	}
	spec := string(b)
	e, ok := d.parsers[spec]
	if !ok {
		e.p, e.err = formats.New(spec)
		if e.err != nil {
			e.err = fmt.Errorf("format header: %w", e.err)
		}
		if len(d.parsers) < MaxParsers {
			d.parsers[spec] = e
		}
	}
	d.lastSpec, d.lastEntry = spec, e
	return e
}
