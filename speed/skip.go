package speed

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/schemas/collections"
)

// Panes that batch has already recomputed are not written. Serving answers
// every pane before the batch horizon from batch and never reads speed's
// documents there, and batch deletes them (retention.go in batch). Speed
// catching up from a long backlog (down for hours, a first start on a
// topic with history, as the demo's) would otherwise write, and batch then
// delete, the documents of every hour batch already has.
//
// Only final panes are skipped: a restart restores the panes still open at
// its checkpoint's watermark from their documents, and never a final one
// (see the package documentation), so exactly-once is not affected. The
// events still count (counters, watermark, checkpoint); Backlog reports
// what was skipped.

// horizonEvery is how often the flush rereads the batch horizon.
const horizonEvery = 5 * time.Second

// horizonState is the batch horizon as last read; flush goroutine only.
type horizonState struct {
	horizon time.Time
	read    time.Time
}

// readHorizon rereads the batch horizon when it is older than
// horizonEvery. A failed read keeps the old one: skipping less is safe.
func (s *Speed) readHorizon(ctx context.Context) time.Time {
	if time.Since(s.hz.read) < horizonEvery {
		return s.hz.horizon
	}
	s.hz.read = time.Now()
	rctx, cancel := context.WithTimeout(ctx, horizonEvery)
	defer cancel()
	var d collections.HorizonDoc
	err := s.db.Collection(collections.MetaCollection).FindOne(rctx, bson.D{{Key: "_id", Value: collections.HorizonDocID(s.cfg.Topic)}}).Decode(&d)
	switch {
	case err == nil && collections.CurrentGeneration(d.Generation) != collections.CurrentGeneration(s.cfg.Generation):
		// Batch has not recomputed under this generation yet: its
		// horizon says nothing of this generation's panes.
		s.hz.horizon = time.Time{}
	case err == nil:
		s.hz.horizon = d.Horizon.UTC()
	case !errors.Is(err, mongo.ErrNoDocuments):
		s.cfg.Logger.Debug("speed: could not read the batch horizon; skipping nothing new", "err", err)
	}
	return s.hz.horizon
}

// skippable reports whether a dirty pane need not be written: final, and
// ending at or before the batch horizon.
func (s *Speed) skippable(p *partition, ps *paneState, horizon time.Time) bool {
	return !horizon.IsZero() && p.final(ps, s.cfg.Pane) && !ps.start.Add(s.cfg.Pane).After(horizon)
}
