package speed

import (
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
		Patterns:       p.minerState(),
	}
}
