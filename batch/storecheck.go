package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/collections"
)

// recheckStore marks dirty, so that this run recomputes them, the hours the
// manifest records as recomputed that the store's horizon document does
// not list with the same recompute time, and returns how many.
//
// Why: the lake's manifest is saved with a sync (base/atomicfile), but the
// store may keep less than it acknowledged: the embedded store of `up`
// commits without waiting for the disk (embedded.MongoConfig.LazySync), so
// an OS crash can lose the last transactions, an hour's documents and
// tiers among them, while the manifest still says the hour is done; a
// store restored from an older backup, or replaced by an empty one, is
// the same case. No run recomputes a recorded hour, so serving would
// answer that hour from documents that are not there, or are older.
//
// The horizon document is written after the run's hours' documents and
// tiers, and a store that loses transactions loses a suffix of them, so
// an hour the horizon document lists with its manifest time has its
// documents and tiers in the store. An hour recorded but not listed so
// was either lost, or recorded by a run killed before its horizon
// document: recomputing it again costs time, never an answer.
func (b *Batch) recheckStore(ctx context.Context, m *lake.Manifest) (int, error) {
	var d collections.HorizonDoc
	err := b.db.Collection(collections.MetaCollection).FindOne(ctx, bson.D{{Key: "_id", Value: collections.HorizonDocID(b.cfg.Topic)}}).Decode(&d)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, fmt.Errorf("check the store against the lake: read %s %s: %w", collections.MetaCollection, collections.HorizonDocID(b.cfg.Topic), err)
	}
	listed := map[int64]int64{} // hour -> recompute time, ms (BSON dates are ms)
	if err == nil && collections.CurrentGeneration(d.Generation) == b.generation() {
		for i, h := range d.Hours {
			if i < len(d.Recomputed) {
				listed[h.UnixMilli()] = d.Recomputed[i].UnixMilli()
			}
		}
	}
	var lost []time.Time
	for h, hs := range m.Hours {
		if hs == nil || hs.Recomputed.IsZero() || hs.Dirty {
			continue
		}
		if at, ok := listed[h.UnixMilli()]; !ok || at != hs.Recomputed.UnixMilli() {
			hs.Dirty = true
			lost = append(lost, h)
		}
	}
	if len(lost) > 0 {
		first, last := lost[0], lost[0]
		for _, h := range lost {
			if h.Before(first) {
				first = h
			}
			if h.After(last) {
				last = h
			}
		}
		b.cfg.Logger.Warn("hours the lake records as recomputed that the store does not (a store that lost its last writes, or a run killed before its horizon document): recomputed again",
			"hours", len(lost), "first", first.UTC().Format(time.RFC3339), "last", last.UTC().Format(time.RFC3339))
	}
	return len(lost), nil
}
