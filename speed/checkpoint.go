package speed

import (
	"slices"
	"time"

	"github.com/loglambda/loglambda/schemas/collections"
)

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// checkpoint returns the partition's checkpoint document as of now.
func (p *partition) checkpoint(now time.Time) collections.Checkpoint {
	return collections.Checkpoint{
		ID:             collections.CheckpointID(p.topic, p.id),
		Topic:          p.topic,
		Partition:      p.id,
		Offset:         p.offset,
		Watermark:      p.watermark,
		MaxEventTime:   p.maxEvent,
		WatermarkNS:    unixNano(p.watermark),
		MaxEventTimeNS: unixNano(p.maxEvent),
		HighWatermark:  p.hwm,
		LateDropped:    p.lateDropped,
		ParseErrors:    p.parseErrors,
		Events:         p.events,
		Updated:        now,
		Written:        slices.Clone(p.written),
		WrittenSince:   p.writtenSince,
		Patterns:       p.minerState(),
		Epoch:          p.epoch,
		Generation:     p.generation,
	}
}

// noteWrite records that a cut at now writes the documents of the pane
// starting at pane, and drops the writes older than the window.
func (p *partition) noteWrite(pane, now time.Time) {
	if p.writtenSince.IsZero() {
		p.writtenSince = now
	}
	from := now.Add(-collections.WrittenWindow)
	if p.writtenSince.Before(from) {
		p.writtenSince = from
	}
	keep := p.written[:0]
	for _, w := range p.written {
		if !w.At.Before(from) && !w.Pane.Equal(pane) {
			keep = append(keep, w)
		}
	}
	p.written = append(keep, collections.PaneWrite{Pane: pane, At: now})
}
