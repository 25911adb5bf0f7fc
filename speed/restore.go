package speed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// restore loads a partition's state from MongoDB on assignment: its
// checkpoint, then the documents of the panes still open at the
// checkpoint's watermark (all of the partition's documents when there is no
// checkpoint). It sets resume to the first offset to read: one past the
// smallest of the checkpoint offset and the open documents' offsets, or -1
// (the start of the partition) when nothing was stored. A checkpoint and
// documents of another views' generation than s's are not restored: the
// partition starts over from its first retained record under the new
// contract (the checkpoint's owner epoch still counts for the claim).
func (s *Speed) restore(ctx context.Context, topic string, id int32) (*partition, error) {
	p := newPartition(topic, id)
	p.generation = collections.CurrentGeneration(s.cfg.Generation)
	var ck collections.Checkpoint
	err := s.db.Collection(collections.CheckpointCollection).FindOne(ctx, bson.D{{Key: "_id", Value: collections.CheckpointID(topic, id)}}).Decode(&ck)
	hasCk := err == nil
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("restore partition %d: read checkpoint: %w", id, err)
	}
	// Documents of this generation only (those from before generations
	// have none: generation 1).
	var gen any = p.generation
	if p.generation == 1 {
		gen = bson.D{{Key: "$in", Value: bson.A{int64(1), int64(0), nil}}}
	}
	filter := bson.D{{Key: "partition", Value: id}, {Key: "generation", Value: gen}}
	sameGen := hasCk && collections.CurrentGeneration(ck.Generation) == p.generation
	if hasCk && !sameGen {
		s.cfg.Logger.Warn("partition checkpointed under another views' generation: starting it over", "partition", id,
			"checkpoint_generation", collections.CurrentGeneration(ck.Generation), "generation", p.generation, "checkpoint_offset", ck.Offset)
		ck = collections.Checkpoint{Epoch: ck.Epoch}
	}
	if sameGen {
		p.replayTo, p.offset, p.checkpointed = ck.Offset, ck.Offset, ck.Offset
		p.maxEvent = fromUnixNano(ck.MaxEventTimeNS)
		p.watermark = fromUnixNano(ck.WatermarkNS)
		p.hwm = ck.HighWatermark
		p.events, p.parseErrors, p.lateDropped = ck.Events, ck.ParseErrors, ck.LateDropped
		if !p.watermark.IsZero() {
			filter = append(filter, bson.E{Key: "pane_end", Value: bson.D{{Key: "$gt", Value: p.watermark}}})
		}
	}
	if s.cfg.patterns {
		if err := p.restoreMiner(ck.Patterns); err != nil {
			return nil, err
		}
	}
	resume := p.offset // -1 without a checkpoint
	for i, view := range views.Names {
		cur, err := s.db.Collection(collections.SpeedCollection(view)).Find(ctx, filter)
		if err != nil {
			return nil, fmt.Errorf("restore partition %d: find %s: %w", id, collections.SpeedCollection(view), err)
		}
		var docs []collections.Doc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, fmt.Errorf("restore partition %d: read %s: %w", id, collections.SpeedCollection(view), err)
		}
		for _, d := range docs {
			key := d.Pane.UnixNano()
			ps := p.panes[key]
			if ps == nil {
				ps = s.newPane(d.Pane.UTC())
				ps.stored = true
				p.panes[key] = ps
			}
			if err := ps.pane.Decode(view, d.State); err != nil {
				return nil, fmt.Errorf("restore partition %d: decode %s: %w", id, d.ID, err)
			}
			ps.offsets[i] = d.Offset
			ps.top = max(ps.top, d.Offset)
			resume = min(resume, d.Offset)
		}
	}
	if sameGen || len(p.panes) > 0 {
		p.resume = resume + 1
		p.seen = resume
	}
	if err := s.claim(ctx, p, hasCk, ck.Epoch); err != nil {
		return nil, err
	}
	return p, nil
}

// claim takes the partition for this process before it writes anything:
// it raises the stored owner epoch by one, in the checkpoint (a new one,
// as of nothing applied, when there is none), so that a process that
// owned the partition before and has not noticed its loss finds a newer
// epoch at its next write and writes nothing more (flush's fence). The
// update is conditional on the epoch read by restore: two processes
// claiming at once cannot both win; the loser's assignment fails and is
// retried by the group.
func (s *Speed) claim(ctx context.Context, p *partition, hasCk bool, stored int64) error {
	p.epoch = stored + 1
	coll := s.db.Collection(collections.CheckpointCollection)
	id := collections.CheckpointID(p.topic, p.id)
	// The claim sets the checkpoint's fence for the new epoch (FenceField),
	// which makes the store refuse every later checkpoint write of an
	// older owner.
	fence, err := replace.FenceSets(p.epoch)
	if err != nil {
		return fmt.Errorf("claim partition %d (epoch %d): %w", p.id, p.epoch, err)
	}
	if !hasCk {
		raw, err := bson.Marshal(p.checkpoint(time.Now().UTC()))
		if err == nil {
			raw, err = replace.Fenced(raw, p.epoch)
		}
		if err == nil {
			_, err = coll.InsertOne(ctx, raw)
		}
		if err != nil {
			return fmt.Errorf("claim partition %d (epoch %d): %w", p.id, p.epoch, err)
		}
		return nil
	}
	// Filtered on _id and the epoch read: FerretDB answers a filter on more
	// than _id by decoding the collection's documents, a few here.
	var was any = stored
	if stored == 0 { // a checkpoint from before epochs has none
		was = bson.D{{Key: "$in", Value: bson.A{int64(0), nil}}}
	}
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "epoch", Value: was}},
		bson.D{{Key: "$set", Value: append(bson.D{{Key: "epoch", Value: p.epoch}}, fence...)}})
	if err != nil {
		return fmt.Errorf("claim partition %d (epoch %d): %w", p.id, p.epoch, err)
	}
	if res.MatchedCount != 1 {
		return fmt.Errorf("claim partition %d: its epoch moved from %d while restoring (another member claimed it)", p.id, stored)
	}
	return nil
}

// newPane returns an empty pane starting at start, holding no offset.
func (s *Speed) newPane(start time.Time) *paneState {
	offs := make([]int64, len(views.Names))
	for i := range offs {
		offs[i] = -1
	}
	p := views.NewPaneOf(views.PaneSpec{HotCapacity: s.cfg.hotCapacity, Clusters: s.cfg.clusters}, start)
	return &paneState{start: start, pane: p, offsets: offs, top: -1}
}
