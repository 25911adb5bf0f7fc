package ship

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/tail"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// source ships one input: it is the tail.Handler of its Follower, so
// everything here runs on the Follower's goroutine except the produce
// callbacks.
type source struct {
	sh       *Shipper
	name     string // as given: the "source" header
	posKey   string // absolute path: the position-file key ("" for stdin)
	follower *tail.Follower
	acks     *tail.Acks // nil for stdin: no positions
	ctx      context.Context
	c        *counters
	headers  []kgo.RecordHeader

	// Key extraction (dec nil without --key).
	dec *ingest.Decoder
	ev  event.Event

	// Multi-line grouping (group nil without --multiline-start): the end
	// of the last line added, and the largest original size of a cut line
	// in the pending group.
	group     grouper
	lastEnd   tail.Position
	groupTrun int
}

// run reads the input to its end (or until ctx is done), then sends the
// pending multi-line group: its lines were read, so they are shipped.
func (s *source) run(ctx context.Context) error {
	err := s.follower.Run(ctx, s)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	s.flushGroup()
	return err
}

// Line implements tail.Handler.
func (s *source) Line(l tail.Line) error {
	s.c.lines.Add(1)
	s.c.bytes.Add(int64(l.Size) + 1)
	trunc := 0
	if l.Truncated() {
		s.c.truncated.Add(1)
		trunc = l.Size
	}
	if s.group == nil {
		s.produce(bytes.Clone(l.Data), l.End, 1, trunc)
		return nil
	}
	if l.First {
		s.flushGroup()
	}
	prevEnd, prevTrunc := s.lastEnd, s.groupTrun
	g, ok := s.group.add(l.Data, time.Now())
	s.lastEnd = l.End
	if ok {
		s.groupTrun = trunc
		s.produceGroup(g, prevEnd, prevTrunc)
	} else {
		s.groupTrun = max(s.groupTrun, trunc)
	}
	return nil
}

// Idle implements tail.Handler: a multi-line group that waited long enough
// for more lines is sent.
func (s *source) Idle(now time.Time) error {
	if s.group == nil {
		return nil
	}
	if g, ok := s.group.expire(now); ok {
		s.produceGroup(g, s.lastEnd, s.groupTrun)
		s.groupTrun = 0
	}
	return nil
}

func (s *source) flushGroup() {
	if s.group == nil {
		return
	}
	if g, ok := s.group.flush(); ok {
		s.produceGroup(g, s.lastEnd, s.groupTrun)
		s.groupTrun = 0
	}
}

func (s *source) produceGroup(g group, end tail.Position, trunc int) {
	if g.split {
		s.c.split.Add(1)
	}
	s.produce(g.text, end, g.lines, trunc)
}

// produce sends one record whose last line ends at end. value must not be
// reused by the caller. Produce blocks while the producer buffer is full,
// which is what bounds memory and paces reading to Kafka.
func (s *source) produce(value []byte, end tail.Position, lines, trunc int) {
	rec := &kgo.Record{Value: value, Headers: s.headers}
	if trunc > 0 {
		rec.Headers = append(slices.Clip(s.headers), kgo.RecordHeader{Key: "truncated", Value: []byte(strconv.Itoa(trunc))})
	}
	if s.dec != nil {
		rec.Key = s.key(value)
	}
	var seq uint64
	acks := s.acks
	if acks != nil {
		seq = acks.Add(end)
	}
	s.c.events.Add(1)
	s.sh.client.Produce(s.ctx, rec, func(_ *kgo.Record, err error) {
		if err != nil {
			s.sh.failed(s.c, s.name, err)
			return
		}
		s.c.acked.Add(1)
		s.c.ackedLines.Add(int64(lines))
		if acks != nil {
			acks.Ack(seq)
		}
	})
}

// key parses the record's first line and returns its key, or nil. A line
// that does not parse is counted and shipped without a key.
func (s *source) key(value []byte) []byte {
	first, _, _ := bytes.Cut(value, []byte{'\n'})
	if s.dec.DecodeLine(&s.ev, first, time.Time{}); s.ev.ParseError != "" {
		s.c.parseErrors.Add(1)
		return nil
	}
	if k := keyValue(&s.ev, s.sh.cfg.key); k != "" {
		return []byte(k)
	}
	return nil
}
