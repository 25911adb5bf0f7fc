// Package collections names what the layers exchange through MongoDB besides
// the view states: the collections, speed's per-partition checkpoints and
// batch's horizon and lake summaries. Speed and batch write them and
// serving reads them, and the layers never import one another, so they
// are declared once here; the view states themselves are package views'.
package collections

import (
	"fmt"
	"time"
)

// CheckpointCollection holds one Checkpoint per partition.
const CheckpointCollection = "speed_checkpoints"

// Checkpoint is the document in speed_checkpoints that records how far a
// partition was applied and flushed. Speed writes it only after every dirty
// pane document of the partition was written, so the pane documents are
// never behind it; serving reads it for lag and counters.
type Checkpoint struct {
	ID        string `bson:"_id"` // CheckpointID
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
	// Written lists the panes of the partition this speed process wrote
	// (every view's document of each) within the last WrittenWindow, each
	// with its latest write; the list is complete from WrittenSince on
	// (the later of the window's start and the process's first write of
	// the partition). Serving reads the documents of those panes by _id,
	// instead of asking for the documents updated since its last read,
	// which the embedded store answers only by decoding every document.
	Written      []PaneWrite `bson:"written"`
	WrittenSince time.Time   `bson:"written_since"`
	// Patterns is the partition's pattern miner at Offset
	// (patterns.Miner.MarshalBinary), so that a restart mines on as the
	// uninterrupted run did; empty when the patterns view is off.
	// Written, WrittenSince and Patterns have no omitempty: a fenced
	// write ($set of the fields a checkpoint carries, base/replace) keeps
	// a stored field the new checkpoint omits, so an empty list or miner
	// must be written as empty, not left as the previous owner's.
	Patterns []byte `bson:"patterns"`
	// Epoch is the partition's owner epoch: each speed process that is
	// assigned the partition raises it by one (a claim, before it writes
	// anything), and before each write of the partition's documents a
	// writer checks that the stored epoch is still its own. A process
	// that lost the partition without knowing yet (paused past its
	// group session) then finds a newer epoch and writes nothing.
	Epoch int64 `bson:"epoch"`
	// Generation is the views' contract generation the partition's state
	// was computed under; a speed of another generation starts the
	// partition over (0: from before generations, read as 1).
	Generation int64 `bson:"generation,omitempty"`
}

// PaneWrite is a pane speed wrote and when (its documents' Updated).
type PaneWrite struct {
	Pane time.Time `bson:"pane"`
	At   time.Time `bson:"at"`
}

// WrittenWindow is how long a checkpoint lists the panes written: longer
// than serving's refresh interval by far, so that a refresh finds every
// write since the one before.
const WrittenWindow = 5 * time.Minute

// CheckpointID is the _id of a partition's checkpoint: "<topic>|p<N>".
func CheckpointID(topic string, partition int32) string {
	return fmt.Sprintf("%s|p%d", topic, partition)
}

// MetaCollection holds the batch layer's state for serving: the horizon
// and the lake's size.
const MetaCollection = "batch_meta"

// HorizonDocID is the id of a topic's HorizonDoc in MetaCollection.
func HorizonDocID(topic string) string { return "horizon|" + topic }

// LakeDocID is the id of a topic's LakeDoc in MetaCollection.
func LakeDocID(topic string) string { return "lake|" + topic }

// HorizonDoc is the batch_meta document serving reads to know where batch
// views end: panes before Horizon come from batch, the rest from speed.
type HorizonDoc struct {
	ID      string      `bson:"_id" json:"-"`
	Topic   string      `bson:"topic" json:"topic"`
	Horizon time.Time   `bson:"horizon" json:"horizon"`
	Hours   []time.Time `bson:"hours" json:"hours"` // recomputed hour starts, ascending
	// Recomputed is when each of Hours was last recomputed. It is part of
	// the digest: a dirty hour recomputed again below an unchanged
	// horizon (late events) changes the document, which is what tells
	// serving to reload the batch views.
	Recomputed []time.Time `bson:"recomputed" json:"recomputed"`
	Updated    time.Time   `bson:"updated" json:"-"`
	// Digest identifies the content (all but Updated), so a run that
	// changes nothing does not rewrite the document.
	Digest string `bson:"digest" json:"-"`
	// Generation is the views' contract generation Hours were recomputed
	// under (0: from before generations, read as 1); serving takes no
	// batch views from a horizon of another generation than the
	// contract's.
	Generation int64 `bson:"generation,omitempty" json:"generation"`
}

// LakeDoc is the batch_meta document describing the lake, for /v1/status:
// its size and the parse errors kept in it, in total and per hour.
type LakeDoc struct {
	ID          string          `bson:"_id" json:"-"`
	Topic       string          `bson:"topic" json:"topic"`
	Files       int64           `bson:"files" json:"files"`
	Rows        int64           `bson:"rows" json:"rows"`
	Bytes       int64           `bson:"bytes" json:"bytes"`
	ParseErrors int64           `bson:"parse_errors" json:"parse_errors"`
	LostOffsets int64           `bson:"lost_offsets" json:"lost_offsets"`
	Hours       []LakeHour      `bson:"hours" json:"hours"`
	Partitions  []LakePartition `bson:"partitions" json:"partitions"`
	Updated     time.Time       `bson:"updated" json:"-"`
	Digest      string          `bson:"digest" json:"-"`
}

// LakeHour is one hour of the lake.
type LakeHour struct {
	Hour        time.Time `bson:"hour" json:"hour"`
	Files       int64     `bson:"files" json:"files"`
	Rows        int64     `bson:"rows" json:"rows"`
	Bytes       int64     `bson:"bytes" json:"bytes"`
	ParseErrors int64     `bson:"parse_errors" json:"parse_errors"`
	Recomputed  time.Time `bson:"recomputed,omitempty" json:"recomputed,omitzero"`
	Dirty       bool      `bson:"dirty" json:"dirty"`
}

// LakePartition is compaction's progress on one partition.
type LakePartition struct {
	Partition    int32     `bson:"partition" json:"partition"`
	NextOffset   int64     `bson:"next_offset" json:"next_offset"`
	MaxEventTime time.Time `bson:"max_event_time,omitempty" json:"max_event_time,omitzero"`
}
