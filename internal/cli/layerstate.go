package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/base/secure"
	"github.com/loglambda/loglambda/schemas/collections"
)

// layerRecorder records the state of one layer process (a speed instance,
// a batch run) in MongoDB (collections.LayerState), so that a serve
// running apart shows a layer that cannot run and answers /readyz 503.
type layerRecorder struct {
	topic, layer, instance string
	// secrets are redacted from every cause recorded.
	secrets []string
}

// recordTimeout bounds a state write: the state is for people, and never
// holds a layer (or its exit) longer than this.
const recordTimeout = 3 * time.Second

// newLayerRecorder is the recorder of layer (instance: a speed member's
// --instance-id, or the host name when it has none; batch has none).
func (c *commonFlags) newLayerRecorder(layer, instance string) *layerRecorder {
	if layer == "speed" && instance == "" {
		instance, _ = os.Hostname()
	}
	return &layerRecorder{topic: c.topic, layer: layer, instance: instance,
		secrets: []string{c.kafkaSec.password.v, secure.URIPassword(c.mongoURI)}}
}

// record writes the state and its cause, keeping Since while neither
// changes. A failure is logged, not returned.
func (r *layerRecorder) record(ctx context.Context, db *mongo.Database, state, cause string) {
	if cause != "" {
		cause = secure.RedactError(errors.New(cause), r.secrets...).Error()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	coll := db.Collection(collections.LayerCollection)
	id := collections.LayerStateID(r.topic, r.layer, r.instance)
	now := time.Now().UTC()
	st := collections.LayerState{ID: id, Topic: r.topic, Layer: r.layer, Instance: r.instance, State: state, Cause: cause, Since: now, Updated: now}
	var prev collections.LayerState
	if err := coll.FindOne(ctx, bson.M{"_id": id}).Decode(&prev); err == nil && prev.State == state && prev.Cause == cause {
		st.Since = prev.Since
	}
	if _, err := coll.ReplaceOne(ctx, bson.M{"_id": id}, st, options.Replace().SetUpsert(true)); err != nil {
		slog.Warn("could not record the layer's state", "layer", r.layer, "state", state,
			"err", secure.RedactError(fmt.Errorf("replace %s %s: %w", collections.LayerCollection, id, err), r.secrets...))
	}
}

// recordApart records that the layer is blocked before it connected to
// MongoDB itself (the brokers refused its credentials): a connection of
// its own, all within recordTimeout, so the layer still exits at once.
func (r *layerRecorder) recordApart(ctx context.Context, c *commonFlags, cause string) {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	db, closeDB, err := c.connectMongoWithin(ctx, recordTimeout)
	if err != nil {
		slog.Warn("could not record the layer's state", "layer", r.layer, "err", err)
		return
	}
	defer closeDB()
	r.record(ctx, db, collections.LayerBlocked, cause)
}

// recordEnd records how a long-running layer ended: stopped when it was
// told to (ctx done) or ended cleanly, blocked with the error otherwise.
func (r *layerRecorder) recordEnd(ctx context.Context, db *mongo.Database, err error) {
	if err == nil || ctx.Err() != nil {
		r.record(ctx, db, collections.LayerStopped, "")
		return
	}
	r.record(ctx, db, collections.LayerBlocked, fmt.Sprintf("%s stopped: %v", r.layer, err))
}
