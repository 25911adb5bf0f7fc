package collections

import (
	"fmt"
	"time"
)

// The documents that carry the view states (package views) between the
// layers: one per view, pane and Kafka partition in speed's collections,
// one per view and pane in batch's.

// SpeedCollection is the collection speed writes for view (a views.View*
// name): speed_hot, speed_traffic, ...
func SpeedCollection(view string) string { return "speed_" + view }

// BatchCollection is the collection batch recompute writes for view.
func BatchCollection(view string) string { return "batch_" + view }

// BatchPartition is the Partition of batch documents: batch panes are
// whole, not per Kafka partition.
const BatchPartition = -1

// Doc is one MongoDB document: a view's state for one pane, from one Kafka
// partition (speed) or all of them (batch). Its _id is deterministic so every
// write is an idempotent replace.
type Doc struct {
	ID        string    `bson:"_id"`
	View      string    `bson:"view"`
	Pane      time.Time `bson:"pane"`
	PaneEnd   time.Time `bson:"pane_end"`
	Partition int32     `bson:"partition"`
	// Offset is the Kafka offset through which this speed document's state
	// is complete: on replay an event is applied only if its offset is
	// greater. -1 in batch documents.
	Offset int64 `bson:"offset"`
	// Updated is when the document was written; serving reads the speed
	// documents updated since its last refresh.
	Updated time.Time `bson:"updated"`
	// State is the view state, encoded by MarshalBinary.
	State []byte `bson:"state"`
	// Summary holds a few readable figures (pv, uv, top terms) for people
	// looking at the database; loglambda itself reads only State.
	Summary map[string]any `bson:"summary,omitempty"`
	// Generation is the views' contract generation the state was computed
	// under (Contract.Generation; 0 in documents from before, read as 1):
	// serving reads only the current generation's, so no answer mixes two.
	Generation int64 `bson:"generation,omitempty"`
	// Epoch is the owner epoch (Checkpoint.Epoch) of the speed process
	// that wrote the document (0 in batch documents and in speed documents
	// from before): who wrote what, after a partition moved.
	Epoch int64 `bson:"epoch,omitempty"`
}

// DocID returns the document id of a view's pane: "hot|2026-11-20T10:01Z|p3"
// for speed, "hot|2026-11-20T10:01Z" for batch (partition BatchPartition).
func DocID(view string, pane time.Time, partition int32) string {
	k := view + "|" + PaneKey(pane)
	if partition == BatchPartition {
		return k
	}
	return fmt.Sprintf("%s|p%d", k, partition)
}

// PaneKey formats a pane start for ids: minutes precision, UTC, "Z".
func PaneKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04Z") }

// TierCollection is the collection of batch's hour and day states of view
// ("batch_<view>_tiers"): each the merge of the tier's panes
// (views.Block), so that serving answers a day from one state per view
// instead of 1,440 panes, and reads them at start instead of every pane.
// Their Doc has Pane and PaneEnd the tier's bounds, partition and offset
// -1.
func TierCollection(view string) string { return "batch_" + view + "_tiers" }

// TierID is the _id of a TierCollection document:
// "<view>|<start>|1h" for an hour, "<view>|<start>|1d" for a UTC day.
// Serving reads the tiers of the hours batch recomputed by it.
func TierID(view string, start time.Time, width time.Duration) string {
	w := "1h"
	if width == 24*time.Hour {
		w = "1d"
	}
	return view + "|" + PaneKey(start) + "|" + w
}
