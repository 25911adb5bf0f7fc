// Package views holds the view states of loglambda and their algebra. Every
// state is a commutative monoid: a zero value (or New*) is the identity, Add
// folds one event in, and Merge is associative and commutative. Speed keeps
// partial states per (pane, partition), batch produces the same types per
// pane, and serving merges them over any window. The algebra is written
// here once and used by every layer.
//
// Files: grid.go (the pane grid), hot.go (search terms), traffic.go (PV,
// UV, IPs), levels.go ((instance, level) counts), patterns.go (log patterns;
// its doc states the absorption rule), pane.go (all views of one pane), codec.go (binary encoding for
// MongoDB), doc.go (the MongoDB documents).
package views

import (
	"fmt"
	"time"
)

// View names; they prefix collection names (speed_hot, batch_traffic) and
// document ids.
const (
	ViewHot     = "hot"
	ViewTraffic = "traffic"
	ViewLevels  = "levels"
	// ViewPatterns is the patterns view (Patterns).
	ViewPatterns = "patterns"
)

// Names lists the views kept per pane, in a stable order.
var Names = []string{ViewHot, ViewTraffic, ViewLevels, ViewPatterns}

// Collection names for a view in each layer.
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
