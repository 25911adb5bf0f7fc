package speed

import (
	"fmt"
	"time"
)

// CheckpointCollection holds one Checkpoint per partition.
const CheckpointCollection = "speed_checkpoints"

// Checkpoint is the document in speed_checkpoints that records how far a
// partition was applied and flushed. It is written only after every dirty
// pane document of the partition was written, so the pane documents are
// never behind it.
type Checkpoint struct {
	ID        string `bson:"_id"` // "<topic>|p<N>"
	Topic     string `bson:"topic"`
	Partition int32  `bson:"partition"`
	// Offset is the last offset applied to the counters and panes and
	// flushed; -1 before any.
	Offset int64 `bson:"offset"`
	// Watermark is MaxEventTime minus the lateness (never moving back):
	// panes ending at or before it are final.
	Watermark    time.Time `bson:"watermark"`
	MaxEventTime time.Time `bson:"max_event_time"`
	// WatermarkNS and MaxEventTimeNS keep the nanoseconds that BSON dates
	// (milliseconds) drop, so a restart resumes with exactly the same
	// watermark as an uninterrupted run; 0 when unset.
	WatermarkNS    int64 `bson:"watermark_ns"`
	MaxEventTimeNS int64 `bson:"max_event_time_ns"`
	// HighWatermark is the partition's high watermark seen by the last
	// fetch: HighWatermark-1-Offset is the lag.
	HighWatermark int64     `bson:"high_watermark"`
	LateDropped   int64     `bson:"late_dropped"`
	ParseErrors   int64     `bson:"parse_errors"`
	Events        int64     `bson:"events"`
	Updated       time.Time `bson:"updated"`
}

// CheckpointID is the _id of a partition's checkpoint.
func CheckpointID(topic string, partition int32) string {
	return fmt.Sprintf("%s|p%d", topic, partition)
}

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
func (p *partition) checkpoint(now time.Time) Checkpoint {
	return Checkpoint{
		ID:             CheckpointID(p.topic, p.id),
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
	}
}
