package speed

import (
	"fmt"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
	"github.com/loglambda/loglambda/schemas/views"
)

// The patterns view needs a miner per partition that lives across panes:
// an event counts under the pattern its partition's miner gives it (see
// views.Patterns). The miner sees every parsed record once, in offset
// order, late ones included (batch's miner reads the same records from the
// lake in the same order, so both give the same ids), and its state travels
// in the partition's checkpoint as an exact snapshot
// (patterns.Miner.MarshalSnapshot): after a restart it continues from the
// checkpoint offset exactly as the uninterrupted run did.
//
// A late event (dropped, see apply) still goes through the miner, so the
// ids stay batch's; but no speed pane records the absorptions it causes
// (batch records them in the late event's pane). Entries of the absorbed
// id in earlier speed panes then stay under it until merged with that
// batch pane. Recording them in another speed pane would make that pane
// differ from batch's, and batch cannot tell which rows speed dropped
// (the lake does not keep which events had no time of their own, which
// speed's watermark leaves out).

// minerOptions are views.PatternMinerOptions, which batch uses too.
var minerOptions = views.PatternMinerOptions

// minedIndex is the place in views.Registry (and in a pane's offsets) of
// the view the partition's miner fills: the registry's CountMiner view.
var minedIndex = func() int {
	for i, v := range views.Registry {
		if v.Count == views.CountMiner {
			return i
		}
	}
	panic("views.Registry has no CountMiner view")
}()

// patternHit is what the partition's miner said about one event.
type patternHit struct {
	id       patterns.ID
	template string
	msg      []byte
	absorbed []patterns.Absorption
}

// mine runs the partition's miner over ev (a parsed event counted for the
// first time) and fills hit.
func (p *partition) mine(ev *event.Event, hit *patternHit) {
	p.msgBuf = views.PatternMessage(ev, p.msgBuf)
	hit.msg = p.msgBuf
	hit.id, hit.template, hit.absorbed = p.tracker.Add(p.msgBuf)
}

// match fills hit for a replayed event the miner saw before the restart.
func (p *partition) match(ev *event.Event, hit *patternHit) {
	p.msgBuf = views.PatternMessage(ev, p.msgBuf)
	hit.msg = p.msgBuf
	hit.id, hit.template = p.tracker.Match(p.msgBuf)
	hit.absorbed = nil
}

// addPattern applies hit to the pane's patterns state.
func (ps *paneState) addPattern(ev *event.Event, hit *patternHit) {
	for _, a := range hit.absorbed {
		ps.pane.Patterns.Absorb(a)
	}
	ps.pane.Patterns.Add(hit.id, hit.template, ev, hit.msg)
}

// minerState encodes the partition's miner for its checkpoint; nil when
// the view is off.
func (p *partition) minerState() []byte {
	if p.tracker == nil {
		return nil
	}
	return p.tracker.Miner().MarshalSnapshot()
}

// restoreMiner sets the partition's miner from its checkpoint's state
// (empty: a new miner).
func (p *partition) restoreMiner(state []byte) error {
	if len(state) == 0 {
		p.tracker = patterns.NewTracker(minerOptions)
		return nil
	}
	m := patterns.NewMiner(minerOptions)
	if err := m.UnmarshalSnapshot(state); err != nil {
		return fmt.Errorf("restore partition %d: patterns miner: %w", p.id, err)
	}
	p.tracker = patterns.NewTrackerFrom(m)
	return nil
}

// replayHit returns the pattern of a replayed record (off at or below the
// checkpoint) when pane ps still lacks it in its patterns view, else nil.
func (p *partition) replayHit(ps *paneState, ev *event.Event, off int64) *patternHit {
	if p.tracker == nil || ev.ParseError != "" || off <= ps.offsets[minedIndex] {
		return nil
	}
	p.match(ev, &p.hit)
	return &p.hit
}
