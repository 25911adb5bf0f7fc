package batch

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// Speed documents before the horizon are dead weight: serving answers every
// pane before the horizon from batch and never looks at them, yet a serving
// refresh on embedded FerretDB scans whole collections (about 0.4 ms per
// document), so a day of speed documents on 4 partitions costs seconds per
// refresh. After it moves the horizon, Recompute deletes the speed view
// documents whose pane ended at least the margin (SpeedMargin) before it.
//
// Why a margin: speed may still write a pane just before the horizon for a
// while (its watermark trails the newest event by the lateness, a flush is
// in flight, a restarted member replays a little), and a document deleted
// under it would just be written again, incomplete. An hour is far more
// than any of those. Checkpoints are never deleted: they say where speed
// resumes.
//
// A speed member that lags the horizon by more than the margin (down for
// hours) rewrites documents of panes older than the cut when it catches
// up, from the events after its checkpoint only; serving ignores them (they
// are before the horizon) and the next recompute deletes them again.

// deleteSpeedDocs deletes the speed view documents whose pane ends at or
// before horizon minus the margin, and returns how many it deleted.
func (b *Batch) deleteSpeedDocs(ctx context.Context, horizon time.Time) (int64, error) {
	if horizon.IsZero() || b.cfg.speedMargin < 0 {
		return 0, nil
	}
	cut := horizon.Add(-b.cfg.speedMargin)
	var n int64
	for _, view := range views.Names {
		coll := collections.SpeedCollection(view)
		res, err := b.db.Collection(coll).DeleteMany(ctx, bson.D{{Key: "pane_end", Value: bson.D{{Key: "$lte", Value: cut}}}})
		if err != nil {
			return n, fmt.Errorf("delete %s documents with pane_end <= %s: %w", coll, cut.Format(time.RFC3339), err)
		}
		n += res.DeletedCount
	}
	return n, nil
}
