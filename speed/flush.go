package speed

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// flushJob is one cut of the state to write: the encoded documents of the
// panes dirty at the cut and the checkpoints of the partitions as of the
// same cut. It is taken under s.mu (cheap: encoding only) and written
// without it, so the polling goroutine keeps applying records while
// MongoDB is slow.
type flushJob struct {
	docs  [][]mongo.WriteModel // per view, views.Names order
	ndocs int
	cks   []mongo.WriteModel
	panes []*paneState // written in this job
	parts []*partition // checkpointed in this job
	offs  []int64      // their offsets at the cut
}

// flush writes the dirty panes of the given partitions (all when only is
// nil), then their checkpoints, then evicts the panes that became final.
// At most one flush runs at a time (s.flushMu): two writes of one document
// in flight could land out of order.
//
// Documents are replaced whole (idempotent upserts, one unordered bulk
// write per collection); the checkpoints follow only when every document
// was written, which keeps the documents never behind their checkpoint
// (see the package documentation).
func (s *Speed) flush(ctx context.Context, only []int32) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	job, err := s.cut(only, time.Now().UTC())
	if err != nil || job == nil {
		return err
	}
	start := time.Now()
	err = s.write(ctx, job)
	s.metrics.flushed(time.Since(start), err)
	s.done(job, err)
	return err
}

// cut takes the flush job of the dirty state, or nil when nothing changed,
// and marks what it took clean.
func (s *Speed) cut(only []int32, now time.Time) (*flushJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	job := &flushJob{docs: make([][]mongo.WriteModel, len(views.Names))}
	for _, p := range s.selectParts(only) {
		for _, ps := range p.panes {
			if !ps.dirty {
				continue
			}
			for i, view := range views.Names {
				state, err := ps.pane.Encode(view)
				if err != nil {
					return nil, fmt.Errorf("flush partition %d pane %s: encode %s: %w", p.id, views.PaneKey(ps.start), view, err)
				}
				id := views.DocID(view, ps.start, p.id)
				doc := views.Doc{
					ID: id, View: view, Pane: ps.start, PaneEnd: ps.start.Add(s.cfg.pane),
					Partition: p.id, Offset: ps.offsets[i], Updated: now,
					State: state, Summary: ps.pane.Summary(view),
				}
				job.docs[i] = append(job.docs[i], mongo.NewReplaceOneModel().
					SetFilter(bson.D{{Key: "_id", Value: id}}).SetReplacement(doc).SetUpsert(true))
				job.ndocs++
			}
			job.panes = append(job.panes, ps)
		}
		if p.dirty {
			ck := p.checkpoint(now)
			job.cks = append(job.cks, mongo.NewReplaceOneModel().
				SetFilter(bson.D{{Key: "_id", Value: ck.ID}}).SetReplacement(ck).SetUpsert(true))
			job.parts = append(job.parts, p)
			job.offs = append(job.offs, p.offset)
		}
	}
	if len(job.panes) == 0 && len(job.parts) == 0 {
		return nil, nil
	}
	for _, ps := range job.panes {
		ps.dirty = false
	}
	for _, p := range job.parts {
		p.dirty = false
	}
	return job, nil
}

// write writes a job's documents, then (after the test hook) its
// checkpoints.
func (s *Speed) write(ctx context.Context, job *flushJob) error {
	for i, models := range job.docs {
		if len(models) == 0 {
			continue
		}
		coll := views.SpeedCollection(views.Names[i])
		if _, err := s.db.Collection(coll).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return fmt.Errorf("flush %d panes to %s: %w", len(models), coll, err)
		}
	}
	if s.cfg.afterDocs != nil {
		if err := s.cfg.afterDocs(); err != nil {
			return stopError{err}
		}
	}
	if len(job.cks) == 0 {
		return nil
	}
	if _, err := s.db.Collection(collections.CheckpointCollection).BulkWrite(ctx, job.cks, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("flush %d checkpoints to %s: %w", len(job.cks), collections.CheckpointCollection, err)
	}
	return nil
}

// done records a job's outcome. On failure what it took is dirty again, to
// be written by the next flush. On success the checkpointed offsets move
// and final panes leave memory: a pane that is final and clean has its
// complete state in MongoDB (events for it are late from now on).
func (s *Speed) done(job *flushJob, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		for _, ps := range job.panes {
			ps.dirty = true
		}
		for _, p := range job.parts {
			p.dirty = true
		}
		return
	}
	s.flushes++
	for i, p := range job.parts {
		p.checkpointed = job.offs[i]
	}
	for _, p := range s.parts {
		for k, ps := range p.panes {
			if !ps.dirty && p.final(ps, s.cfg.pane) {
				p.evict(k)
			}
		}
	}
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
