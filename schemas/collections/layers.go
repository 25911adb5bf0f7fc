package collections

import "time"

// LayerCollection holds one LayerState per layer process (speed instance,
// batch): a serve running apart from them shows a layer that cannot run
// under /v1/status "behind" and answers /readyz 503, as up does for its
// own layers.
const LayerCollection = "layers"

// The states of a layer process.
const (
	LayerRunning = "running" // started, its connections accepted
	LayerBlocked = "blocked" // cannot run: a refused credential, a fatal error (Cause)
	LayerStopped = "stopped" // ended without error (batch run done, speed shut down)
)

// LayerStateID is the _id of a layer process's state: "<topic>|<layer>"
// for batch (one writer of the lake at a time), "<topic>|speed|<instance>"
// for a speed member, so a member restarted with the same instance id
// replaces what it recorded before.
func LayerStateID(topic, layer, instance string) string {
	if instance == "" {
		return topic + "|" + layer
	}
	return topic + "|" + layer + "|" + instance
}

// LayerState is what a layer process records of itself. Cause never holds
// a secret: the commands redact their passwords from it.
type LayerState struct {
	ID       string `bson:"_id"`
	Topic    string `bson:"topic"`
	Layer    string `bson:"layer"`
	Instance string `bson:"instance,omitempty"`
	State    string `bson:"state"`
	Cause    string `bson:"cause,omitempty"`
	// Since is when the process entered State with this Cause; Updated
	// when it last wrote.
	Since   time.Time `bson:"since"`
	Updated time.Time `bson:"updated"`
}
