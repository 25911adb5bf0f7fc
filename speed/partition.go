package speed

import (
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// paneState is one pane of one partition held in memory.
type paneState struct {
	start time.Time
	pane  *views.Pane
	// offsets is, per view (views.Names order), the last partition offset
	// applied to that view's state: the doc's Offset. A replayed event is
	// applied to a view only if its offset is greater.
	offsets []int64
	// dirty is set when an event was applied since the last flush.
	dirty bool
}

// partition is the speed state of one assigned Kafka partition.
type partition struct {
	topic string
	id    int32

	panes map[int64]*paneState // by pane start, Unix nanoseconds

	// replayTo is the checkpoint offset restored on assignment: records at
	// or below it were counted before, so they change no counter and no
	// watermark, and reach only restored panes that do not hold them yet.
	replayTo int64
	// offset is the last offset applied (counted); seen is the last offset
	// read, which is below offset while replaying.
	offset, seen int64
	// resume is where consumption started after the assignment.
	resume int64

	maxEvent  time.Time
	watermark time.Time
	hwm       int64

	events, parseErrors, lateDropped int64

	// checkpointed is the offset of the last checkpoint written; dirty is
	// set when the counters moved since.
	checkpointed int64
	dirty        bool
}

func newPartition(topic string, id int32) *partition {
	return &partition{
		topic: topic, id: id,
		panes:    map[int64]*paneState{},
		replayTo: -1, offset: -1, seen: -1, resume: -1, hwm: -1, checkpointed: -1,
	}
}

// tally accumulates what one fetch added to the process-wide counters, so
// that metrics are updated per fetch and not per event.
type tally struct {
	events, parseErrors, lateDropped int64
}

// apply folds the record at offset off, parsed into ev, into the
// partition. It is the whole of the speed layer's semantics; see the
// package documentation for why it gives the same result after a restart.
func (p *partition) apply(ev *event.Event, off int64, s *Speed, t *tally) {
	if off > p.seen {
		p.seen = off
	}
	start := s.grid.Start(ev.Time)
	key := start.UnixNano()
	if off <= p.replayTo {
		// Counted before the restart. Its effect is in the stored state
		// of its pane if that pane was open; only restored panes can
		// still lack it (they never do when documents were written before
		// their checkpoint, as this layer does, but the rule holds anyway).
		if ev.ParseError != "" {
			return
		}
		if ps := p.panes[key]; ps != nil {
			ps.add(ev, off)
		}
		return
	}
	p.offset = off
	p.events++
	t.events++
	p.dirty = true
	if ev.ParseError != "" {
		p.parseErrors++
		t.parseErrors++
		return
	}
	// Lateness is decided by the watermark alone, never by whether the
	// pane is still in memory: memory depends on flush timing, the
	// watermark only on the records read so far.
	if !start.Add(s.cfg.pane).After(p.watermark) {
		p.lateDropped++
		t.lateDropped++
		return
	}
	ps := p.panes[key]
	if ps == nil {
		ps = s.newPane(start)
		p.panes[key] = ps
	}
	ps.add(ev, off)
	// Events without a time of their own carry their ingest time; letting
	// it move the watermark would make a backfill of old logs all late.
	if !ev.TimeMissing && ev.Time.After(p.maxEvent) {
		p.maxEvent = ev.Time
		if w := ev.Time.Add(-s.cfg.lateness); w.After(p.watermark) {
			p.watermark = w
		}
	}
}

// add applies ev at offset off to every view that does not hold it yet.
func (ps *paneState) add(ev *event.Event, off int64) {
	all := true
	for _, o := range ps.offsets {
		all = all && off > o
	}
	if all {
		ps.pane.Add(ev)
		for i := range ps.offsets {
			ps.offsets[i] = off
		}
		ps.dirty = true
		return
	}
	for i, view := range views.Names {
		if off > ps.offsets[i] {
			ps.pane.AddTo(view, ev)
			ps.offsets[i] = off
			ps.dirty = true
		}
	}
}

// final reports whether the pane can change no more: the watermark passed
// its end, so every later event for it is late.
func (p *partition) final(ps *paneState, pane time.Duration) bool {
	return !ps.start.Add(pane).After(p.watermark)
}
