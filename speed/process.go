package speed

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// applyChunk is how many records process applies under one hold of s.mu.
// Holding it for a whole poll (tens of thousands of records, a quarter of a
// second) made a flush's cut and Stats wait for the poll. Any point between
// two records is a consistent cut: apply moves a partition's panes, offset
// and counters together, record by record.
const applyChunk = 1024

// maxDecoders bounds the goroutines that decode and apply one poll.
const maxDecoders = 8

// partRecords is one partition's records of a poll.
type partRecords struct {
	p    *partition
	id   int32
	recs []*kgo.Record
}

// process applies one poll's records and updates the metrics once.
// Partitions are independent (each has its own panes, counters and
// miner), so when the poll holds several, up to GOMAXPROCS goroutines
// take them one by one and each decodes and applies its partition's
// records chunk by chunk, holding s.mu shared while it applies: no other
// goroutine touches that partition meanwhile, and whoever reads or
// changes partitions (the flush's cut, the group callbacks, Stats) holds
// s.mu exclusively. Applying was the serial part of the speed layer (the
// views and the patterns miner cost as much as parsing), and it now runs
// on every core. A poll of one partition is decoded over the goroutines
// one chunk ahead of its apply instead (processOne). Either way each
// partition's records are applied in offset order, exactly as a decode
// and apply record by record would.
//
// Records are decoded borrowed (ingest.Decoder.DecodeBorrowed): an
// event's strings are its record's bytes, not a copy of the line, because
// nothing here keeps them past the apply: the views copy the strings
// they key by (hot terms, paths, level keys, pattern examples), and the
// events of a chunk buffer already hold their records through Event.Raw.
// The copy was an allocation of the line's size per record.
func (s *Speed) process(fetches kgo.Fetches) {
	var work []partRecords
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if fp.Err != nil {
			if !errors.Is(fp.Err, context.Canceled) && !errors.Is(fp.Err, context.DeadlineExceeded) {
				s.cfg.Logger.Warn("speed fetch error", "topic", fp.Topic, "partition", fp.Partition, "err", fp.Err)
			}
			return
		}
		s.mu.Lock()
		p := s.parts[fp.Partition]
		if p == nil || fp.Topic != s.cfg.Topic {
			s.mu.Unlock()
			if len(fp.Records) > 0 {
				s.cfg.Logger.Warn("speed: records for a partition not assigned here; skipped", "topic", fp.Topic, "partition", fp.Partition, "records", len(fp.Records))
			}
			return
		}
		if fp.HighWatermark > p.hwm {
			p.hwm = fp.HighWatermark
			p.dirty = true
		}
		s.mu.Unlock()
		if len(fp.Records) > 0 {
			work = append(work, partRecords{p: p, id: fp.Partition, recs: fp.Records})
		}
	})
	var t tally
	switch workers := min(len(s.decs), len(work)); {
	case workers == 0:
	case workers == 1:
		for _, w := range work {
			s.processOne(w, &t)
		}
	default:
		tallies := make([]tally, workers)
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(work) {
						return
					}
					s.applyPart(work[i], w, &tallies[w])
				}
			}()
		}
		wg.Wait()
		for _, wt := range tallies {
			t.events += wt.events
			t.parseErrors += wt.parseErrors
			t.lateDropped += wt.lateDropped
		}
	}
	s.mu.Lock()
	s.total.events += t.events
	s.total.parseErrors += t.parseErrors
	s.total.lateDropped += t.lateDropped
	s.mu.Unlock()
	s.metrics.add(t)
}

// applyPart decodes and applies one partition's records with worker w's
// decoder and buffer, chunk by chunk. It stops when the partition was
// dropped meanwhile: its next owner reads these records again.
func (s *Speed) applyPart(w partRecords, worker int, t *tally) {
	buf := s.buffer(worker, 0, min(len(w.recs), applyChunk))
	dec := s.decs[worker]
	for lo := 0; lo < len(w.recs); lo += applyChunk {
		recs := w.recs[lo:min(lo+applyChunk, len(w.recs))]
		evs := buf[:len(recs)]
		for j, r := range recs {
			dec.DecodeBorrowed(&evs[j], r)
		}
		if !s.applyChunk(w, recs, evs, t) {
			return
		}
	}
}

// applyChunk applies decoded records to their partition under s.mu held
// shared; false when the partition is no longer this process's.
func (s *Speed) applyChunk(w partRecords, recs []*kgo.Record, evs []event.Event, t *tally) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := w.p
	if s.parts[w.id] != p {
		return false
	}
	for j, r := range recs {
		if r.Offset <= p.seen {
			continue // delivered twice; already applied
		}
		p.apply(&evs[j], r.Offset, s, t)
		p.lastEvent = &evs[j]
	}
	return true
}

// buffer returns worker w's event buffer b with room for n events.
func (s *Speed) buffer(w, b, n int) []event.Event {
	if cap(s.evs[w][b]) < n {
		s.evs[w][b] = make([]event.Event, max(n, applyChunk))
	}
	return s.evs[w][b][:n]
}

// processOne applies one partition's records: chunk i+1 is decoded, split
// over the decoders, while chunk i is applied.
func (s *Speed) processOne(w partRecords, t *tally) {
	recs := w.recs
	chunk := func(i int) []*kgo.Record { return recs[i*applyChunk : min((i+1)*applyChunk, len(recs))] }
	chunks := (len(recs) + applyChunk - 1) / applyChunk
	var next sync.WaitGroup
	s.decodeChunk(&next, chunk(0), 0)
	for i := range chunks {
		next.Wait()
		if i+1 < chunks {
			s.decodeChunk(&next, chunk(i+1), (i+1)%2)
		}
		if !s.applyChunk(w, chunk(i), s.evs[0][i%2][:len(chunk(i))], t) {
			next.Wait()
			return
		}
	}
}

// decodeChunk starts decoding recs into buffer buf of worker 0, split over
// the decoders, each part in its own goroutine, and returns; wg is done
// when every part is. A chunk too small to be worth a goroutine is
// decoded at once.
func (s *Speed) decodeChunk(wg *sync.WaitGroup, recs []*kgo.Record, buf int) {
	evs := s.buffer(0, buf, len(recs))
	const minPart = 64
	parts := min(len(s.decs), max(1, len(recs)/minPart))
	if parts == 1 {
		for j, r := range recs {
			s.dec.DecodeBorrowed(&evs[j], r)
		}
		return
	}
	per := (len(recs) + parts - 1) / parts
	for w := range parts {
		lo, hi := w*per, min((w+1)*per, len(recs))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(dec *ingest.Decoder) {
			defer wg.Done()
			for j := lo; j < hi; j++ {
				dec.DecodeBorrowed(&evs[j], recs[j])
			}
		}(s.decs[w])
	}
}
