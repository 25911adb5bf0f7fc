package speed

import (
	"time"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
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
	// top is the largest of offsets: an event past it goes to every view
	// (add's common case) without a look at each.
	top int64
	// dirty is set when an event was applied since the last flush.
	dirty bool
	// stored is set once the pane's documents are in MongoDB (written, or
	// restored from there): later writes replace them, the first inserts.
	stored bool
}

// partition is the speed state of one assigned Kafka partition.
type partition struct {
	// generation is the views' contract generation its state is of.
	generation int64
	topic      string
	id         int32

	panes map[int64]*paneState // by pane start, Unix nanoseconds
	// last is the pane of the previous event (nil after an eviction):
	// events come mostly in time order, so most find their pane here
	// without a map lookup.
	last *paneState

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

	// written are the panes this process wrote in the last
	// collections.WrittenWindow, oldest first, complete since
	// writtenSince (the first cut that wrote any): the checkpoint's
	// Written.
	written      []collections.PaneWrite
	writtenSince time.Time

	// lastEvent is the event of the last record process applied (for
	// tests).
	lastEvent *event.Event

	// tracker mines the partition's messages for the patterns view (nil
	// when the view is off); msgBuf and hit are its scratch.
	tracker *patterns.Tracker
	msgBuf  []byte
	hit     patternHit

	// epoch is this process's owner epoch of the partition, claimed on
	// assignment (restore): its writes go on only while the stored
	// checkpoint carries it.
	epoch int64

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
	if off <= p.replayTo {
		// Counted before the restart. Its effect is in the stored state
		// of its pane if that pane was open; only restored panes can
		// still lack it (they never do when documents were written before
		// their checkpoint, as this layer does, but the rule holds anyway).
		if ev.ParseError != "" {
			return
		}
		if ps := p.pane(start); ps != nil {
			hit := p.replayHit(ps, ev, off)
			ps.add(ev, off, hit)
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
	var hit *patternHit
	if p.tracker != nil {
		hit = &p.hit
		p.mine(ev, hit)
	}
	// Lateness is decided by the watermark alone, never by whether the
	// pane is still in memory: memory depends on flush timing, the
	// watermark only on the records read so far.
	if !start.Add(s.cfg.Pane).After(p.watermark) {
		p.lateDropped++
		t.lateDropped++
		return
	}
	ps := p.pane(start)
	if ps == nil {
		ps = s.newPane(start)
		p.panes[start.UnixNano()] = ps
		p.last = ps
	}
	ps.add(ev, off, hit)
	// Events without a time of their own carry their ingest time; letting
	// it move the watermark would make a backfill of old logs all late.
	if !ev.TimeMissing && ev.Time.After(p.maxEvent) {
		p.maxEvent = ev.Time
		if w := ev.Time.Add(-s.cfg.Lateness); w.After(p.watermark) {
			p.watermark = w
		}
	}
}

// pane returns the pane in memory that starts at start, or nil.
func (p *partition) pane(start time.Time) *paneState {
	if p.last != nil && p.last.start.Equal(start) {
		return p.last
	}
	ps := p.panes[start.UnixNano()]
	if ps != nil {
		p.last = ps
	}
	return ps
}

// evict removes the pane at key from memory.
func (p *partition) evict(key int64) {
	if p.last == p.panes[key] {
		p.last = nil
	}
	delete(p.panes, key)
}

// denseAfter is the traffic event count at which a pane's sketches become
// dense (views.Traffic.Densify). Below it the sparse sketches are cheap,
// small to store and near exact; beyond it their merges dominate the cost
// of an event. A count of the view's own events keeps the switch at the
// same event in every run, restarts included.
const denseAfter = 1024

// add applies ev at offset off to every view that does not hold it yet;
// hit is its pattern (nil: the patterns view is off).
func (ps *paneState) add(ev *event.Event, off int64, hit *patternHit) {
	if off > ps.top {
		ps.pane.Add(ev)
		if hit != nil {
			ps.addPattern(ev, hit)
		}
		for i := range ps.offsets {
			ps.offsets[i] = off
		}
		ps.top = off
		ps.dirty = true
		ps.maybeDensify()
		return
	}
	for i, view := range views.Names {
		if off > ps.offsets[i] {
			ps.pane.AddTo(view, ev)
			if i == minedIndex && hit != nil {
				ps.addPattern(ev, hit)
			}
			ps.offsets[i] = off
			ps.top = max(ps.top, off)
			ps.dirty = true
			if view == views.ViewTraffic {
				ps.maybeDensify()
			}
		}
	}
}

// maybeDensify makes the traffic sketches dense when the traffic view just
// took its denseAfter-th event.
func (ps *paneState) maybeDensify() {
	if ps.pane.Traffic.PV == denseAfter {
		ps.pane.Traffic.Densify()
	}
}

// final reports whether the pane can change no more: the watermark passed
// its end, so every later event for it is late.
func (p *partition) final(ps *paneState, pane time.Duration) bool {
	return !ps.start.Add(pane).After(p.watermark)
}
