package speed

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/schemas/views"
)

// flush writes the dirty panes of the given partitions (all when nil), then
// their checkpoints, then evicts the panes that became final. It holds
// s.mu, so the state it writes is one consistent cut of the stream.
//
// The documents are replaced whole (idempotent upserts, one unordered bulk
// write per collection); the checkpoints follow only when every document
// was written, which is what keeps the documents never behind their
// checkpoint (see the package documentation).
func (s *Speed) flush(ctx context.Context, only []int32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := s.selectParts(only)
	start := time.Now()
	now := start.UTC()
	dirtyParts := 0
	for _, p := range parts {
		if p.dirty || p.hasDirtyPanes() {
			dirtyParts++
		}
	}
	if dirtyParts == 0 {
		return nil
	}
	err := s.writeDocs(ctx, parts, now)
	if err == nil && s.cfg.afterDocs != nil {
		if err = s.cfg.afterDocs(); err != nil {
			return stopError{err}
		}
	}
	if err == nil {
		err = s.writeCheckpoints(ctx, parts, now)
	}
	s.metrics.flushed(time.Since(start), err)
	if err != nil {
		return err
	}
	s.flushes++
	return nil
}

func (s *Speed) selectParts(only []int32) []*partition {
	if only == nil {
		out := make([]*partition, 0, len(s.parts))
		for _, p := range s.parts {
			out = append(out, p)
		}
		return out
	}
	out := make([]*partition, 0, len(only))
	for _, id := range only {
		if p := s.parts[id]; p != nil {
			out = append(out, p)
		}
	}
	return out
}

func (p *partition) hasDirtyPanes() bool {
	for _, ps := range p.panes {
		if ps.dirty {
			return true
		}
	}
	return false
}

// writeDocs upserts every dirty pane, one bulk write per view, then marks
// them clean and evicts the final ones.
func (s *Speed) writeDocs(ctx context.Context, parts []*partition, now time.Time) error {
	var written []*paneState
	for i, view := range views.Names {
		var models []mongo.WriteModel
		for _, p := range parts {
			for _, ps := range p.panes {
				if !ps.dirty {
					continue
				}
				state, err := ps.pane.Encode(view)
				if err != nil {
					return fmt.Errorf("flush partition %d pane %s: encode %s: %w", p.id, views.PaneKey(ps.start), view, err)
				}
				id := views.DocID(view, ps.start, p.id)
				doc := views.Doc{
					ID: id, View: view, Pane: ps.start, PaneEnd: ps.start.Add(s.cfg.pane),
					Partition: p.id, Offset: ps.offsets[i], Updated: now,
					State: state, Summary: ps.pane.Summary(view),
				}
				models = append(models, mongo.NewReplaceOneModel().
					SetFilter(bson.D{{Key: "_id", Value: id}}).SetReplacement(doc).SetUpsert(true))
				if i == 0 {
					written = append(written, ps)
				}
			}
		}
		if len(models) == 0 {
			continue
		}
		coll := views.SpeedCollection(view)
		if _, err := s.db.Collection(coll).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return fmt.Errorf("flush %d panes to %s: %w", len(models), coll, err)
		}
	}
	for _, ps := range written {
		ps.dirty = false
	}
	// A final pane was just written for the last time (it was dirty) or
	// earlier; either way its document is complete and memory can go.
	for _, p := range parts {
		for k, ps := range p.panes {
			if !ps.dirty && p.final(ps, s.cfg.pane) {
				delete(p.panes, k)
			}
		}
	}
	return nil
}

// writeCheckpoints upserts the checkpoints of the partitions whose
// counters moved, in one bulk write, and hints Kafka with the offsets.
func (s *Speed) writeCheckpoints(ctx context.Context, parts []*partition, now time.Time) error {
	var models []mongo.WriteModel
	var dirty []*partition
	for _, p := range parts {
		if !p.dirty {
			continue
		}
		ck := p.checkpoint(now)
		models = append(models, mongo.NewReplaceOneModel().
			SetFilter(bson.D{{Key: "_id", Value: ck.ID}}).SetReplacement(ck).SetUpsert(true))
		dirty = append(dirty, p)
	}
	if len(models) == 0 {
		return nil
	}
	if _, err := s.db.Collection(CheckpointCollection).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("flush %d checkpoints: %w", len(models), err)
	}
	for _, p := range dirty {
		p.dirty = false
		p.checkpointed = p.offset
	}
	return nil
}
