package speed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// flushJob is one cut of the state to write, per partition: the encoded
// documents of the panes dirty at the cut and the partition's checkpoint as
// of the same cut. It is taken under s.mu (cheap: encoding only) and
// written without it, so the polling goroutine keeps applying records while
// MongoDB is slow.
type flushJob struct {
	parts []*partJob
	ndocs int
	// until is the flush's budget (flushBudget): no command starts
	// after it.
	until time.Time
}

// errFlushBudget ends a flush that used its budget; what it did not write
// is dirty for the next one.
var errFlushBudget = errors.New("flush budget used up; the rest is written by the next flush")

// errFenced stops a command of a partition whose stored epoch is no longer
// this process's.
var errFenced = errors.New("the partition's epoch is another process's")

// partJob is one partition's share of a flush job.
type partJob struct {
	p *partition
	// groups are the dirty panes in groups of at most replace.MaxBatch,
	// each with its documents per view (views.Names order): one command
	// per view and group, so a group is written whole or not at all.
	groups []paneGroup
	ck     *replace.Doc // nil: the counters did not move
	off    int64        // the partition's offset at the cut
	// written counts the groups written; ckWritten is set once the
	// checkpoint is.
	written   int
	ckWritten bool
	// fenced is set when the partition's stored epoch was no longer
	// this process's: nothing more of it was written (see fence).
	fenced      bool
	storedEpoch int64
	// storeRefused are the documents the store itself refused (written
	// by a newer owner since the epoch read).
	storeRefused []string
}

type paneGroup struct {
	panes []*paneState
	docs  [][]replace.Doc
}

// flush writes the dirty panes of the given partitions (all when only is
// nil), each partition's checkpoint after its own documents, then evicts
// the panes that became final. At most one flush runs at a time
// (s.flushMu): two writes of one document in flight could land out of
// order.
//
// Documents are replaced whole (idempotent upserts, through the Writer in
// commands of at most replace.MaxBatch documents, each with its own
// deadline). A partition's checkpoint follows only when every one of its
// documents was written, which keeps the documents never behind their
// checkpoint (see the package documentation). A flush that fails part way
// keeps what it wrote: the partitions and pane groups written before the
// failure are clean, the rest dirty again for the next flush.
func (s *Speed) flush(ctx context.Context, only []int32) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	job, err := s.cut(only, time.Now().UTC(), s.readHorizon(ctx))
	if err != nil || job == nil {
		return err
	}
	start := time.Now()
	job.until = start.Add(flushBudget)
	err = s.write(ctx, job)
	took := time.Since(start)
	s.reportFenced(job)
	s.metrics.flushed(took, err)
	s.done(job, err)
	if errors.Is(err, errFlushBudget) {
		err = nil // not a failure: the store is slow, the next flush goes on
	}
	var se stopError
	if !errors.As(err, &se) {
		s.reportFlush(err, took)
	}
	return err
}

// cut takes the flush job of the dirty state, or nil when nothing changed,
// and marks what it took clean.
func (s *Speed) cut(only []int32, now, horizon time.Time) (*flushJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	job := &flushJob{}
	for _, p := range s.selectParts(only) {
		pj := &partJob{p: p, off: p.offset}
		var g *paneGroup
		for _, ps := range p.dirtyPanes() {
			if s.skippable(p, ps, horizon) {
				ps.dirty = false // final: evicted by done
				s.bl.skippedPanes++
				s.bl.skippedDocs += int64(len(views.Names))
				continue
			}
			if g == nil || len(g.panes) == replace.MaxBatch {
				pj.groups = append(pj.groups, paneGroup{docs: make([][]replace.Doc, len(views.Names))})
				g = &pj.groups[len(pj.groups)-1]
			}
			for i, view := range views.Names {
				state, err := ps.pane.Encode(view)
				if err != nil {
					return nil, fmt.Errorf("flush partition %d pane %s: encode %s: %w", p.id, collections.PaneKey(ps.start), view, err)
				}
				id := collections.DocID(view, ps.start, p.id)
				g.docs[i] = append(g.docs[i], replace.Doc{ID: id, New: !ps.stored, Epoch: p.epoch, Body: collections.Doc{
					ID: id, View: view, Pane: ps.start, PaneEnd: ps.start.Add(s.cfg.Pane),
					Partition: p.id, Offset: ps.offsets[i], Updated: now,
					State: state, Summary: ps.pane.Summary(view), Generation: p.generation, Epoch: p.epoch,
				}})
				job.ndocs++
			}
			g.panes = append(g.panes, ps)
			p.noteWrite(ps.start, now)
		}
		// The checkpoint goes with every write of documents, for its
		// list of the panes written (serving reads those by _id).
		if p.dirty || len(pj.groups) > 0 {
			ck := p.checkpoint(now)
			pj.ck = &replace.Doc{ID: ck.ID, Body: ck, Epoch: p.epoch}
		}
		if len(pj.groups) > 0 || pj.ck != nil {
			job.parts = append(job.parts, pj)
		}
	}
	if len(job.parts) == 0 {
		s.evictFinal()
		return nil, nil
	}
	s.bl.inflight, s.bl.inflightOldest = int64(job.ndocs), time.Time{}
	for _, pj := range job.parts {
		for _, g := range pj.groups {
			for _, ps := range g.panes {
				ps.dirty = false
				if s.bl.inflightOldest.IsZero() || ps.start.Before(s.bl.inflightOldest) {
					s.bl.inflightOldest = ps.start
				}
			}
		}
		pj.p.dirty = false
	}
	return job, nil
}

// write writes a job partition by partition: the pane groups, then (after
// the test hook) the checkpoint. It stops at the first error, recording in
// the job how far it got.
func (s *Speed) write(ctx context.Context, job *flushJob) error {
	for _, pj := range job.parts {
		for pj.written < len(pj.groups) {
			if time.Now().After(job.until) {
				return errFlushBudget
			}
			g := pj.groups[pj.written]
			for i, docs := range g.docs {
				coll := collections.SpeedCollection(views.Names[i])
				// The epoch is read once the command is encoded and its
				// turn has come: only the send follows (see the package
				// documentation, Fencing).
				res, err := s.writer.ReplaceChecked(ctx, s.db.Collection(coll), docs, func(cctx context.Context) error {
					if err := s.fence(cctx, pj); err != nil {
						return err
					}
					if pj.fenced {
						return errFenced
					}
					if s.cfg.beforeSend != nil {
						s.cfg.beforeSend(pj.p.id, "docs")
					}
					return nil
				})
				if pj.fenced {
					return nil
				}
				if err != nil {
					return fmt.Errorf("flush partition %d: %d panes to %s: %w", pj.p.id, len(docs), coll, err)
				}
				if len(res.Refused) > 0 {
					// The store refused documents a newer owner wrote
					// (the epoch changed after the read above).
					pj.storeRefused = res.Refused
					if err := s.fence(ctx, pj); err != nil {
						return err
					}
					pj.fenced = true
					return nil
				}
			}
			pj.written++
			s.mu.Lock()
			s.bl.inflight -= int64(len(g.panes) * len(g.docs))
			s.mu.Unlock()
		}
		if s.cfg.afterDocs != nil {
			if err := s.cfg.afterDocs(); err != nil {
				return stopError{err}
			}
		}
		if pj.ck == nil {
			continue
		}
		if s.cfg.beforeSend != nil {
			s.cfg.beforeSend(pj.p.id, "checkpoint")
		}
		// The checkpoint is fenced like the documents (its epoch's
		// fence, set by the claim): no pause of this process can land it
		// over a newer owner's claim.
		res, err := s.writer.Replace(ctx, s.db.Collection(collections.CheckpointCollection), []replace.Doc{*pj.ck})
		if err != nil {
			return fmt.Errorf("flush partition %d: checkpoint to %s: %w", pj.p.id, collections.CheckpointCollection, err)
		}
		if len(res.Refused) > 0 {
			// Refused: read the stored epoch for the log only.
			if err := s.fence(ctx, pj); err != nil {
				return err
			}
			pj.fenced = true
			return nil
		}
		pj.ckWritten = true
	}
	return nil
}

// done records a job's outcome. What it did not write is dirty again, to
// be written by the next flush. Partitions whose checkpoint was written
// move their checkpointed offset, and final panes leave memory: a pane that
// is final and clean has its complete state in MongoDB (events for it are
// late from now on).
func (s *Speed) done(job *flushJob, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bl.inflight, s.bl.inflightOldest = 0, time.Time{}
	for _, pj := range job.parts {
		for _, g := range pj.groups[:pj.written] {
			for _, ps := range g.panes {
				ps.stored = true
			}
		}
		for _, g := range pj.groups[pj.written:] {
			for _, ps := range g.panes {
				ps.dirty = true
			}
		}
		if pj.ck != nil && !pj.ckWritten {
			pj.p.dirty = true
		}
		if pj.ckWritten {
			pj.p.checkpointed = pj.off
		}
	}
	if err == nil {
		s.flushes++
	}
	s.evictFinal()
}

// evictFinal drops the panes that are final and clean; s.mu must be held.
func (s *Speed) evictFinal() {
	for _, p := range s.parts {
		for k, ps := range p.panes {
			if !ps.dirty && p.final(ps, s.cfg.Pane) {
				p.evict(k)
			}
		}
	}
}

// fence checks, before a command that writes pj's partition, that the
// partition's stored epoch is still this process's (see the package
// documentation, Fencing); when it is not, it marks pj fenced and writes
// nothing more of the partition. One read by _id per command.
func (s *Speed) fence(ctx context.Context, pj *partJob) error {
	if pj.fenced {
		return nil
	}
	var ck struct {
		Epoch int64 `bson:"epoch"`
	}
	// The read is bounded like every write command of the flush: without
	// a deadline, one read that the store never answers (seen under the
	// first compaction of a day's backfill) held the flush, and with it
	// every checkpoint, for good. Timed out, the flush fails and the next
	// one retries.
	fctx, cancel := context.WithTimeout(ctx, replace.DefaultCommandTimeout)
	defer cancel()
	err := s.db.Collection(collections.CheckpointCollection).FindOne(fctx, bson.D{{Key: "_id", Value: collections.CheckpointID(pj.p.topic, pj.p.id)}},
		options.FindOne().SetProjection(bson.D{{Key: "epoch", Value: 1}})).Decode(&ck)
	if err != nil {
		// The claim wrote it on assignment: a missing checkpoint is a
		// failure like any other, retried by the next flush.
		return fmt.Errorf("flush partition %d: read its epoch: %w", pj.p.id, err)
	}
	if ck.Epoch != pj.p.epoch {
		pj.fenced, pj.storedEpoch = true, ck.Epoch
	}
	return nil
}

// reportFenced drops the partitions a flush found claimed by another
// member and logs, per partition, what this process did not write: it lost
// the partition without knowing yet, and the new owner's documents stay.
// The group session takes the partition away too; dropping it now keeps
// this process from trying again every flush.
func (s *Speed) reportFenced(job *flushJob) {
	var ids []int32
	for _, pj := range job.parts {
		if !pj.fenced {
			continue
		}
		docs := 0
		for _, g := range pj.groups[pj.written:] {
			for _, d := range g.docs {
				docs += len(d)
			}
		}
		s.metrics.refused(docs)
		s.cfg.Logger.Warn("speed: refused to write a partition another member owns now (this process lost it and did not know yet); dropped it",
			"partition", pj.p.id, "our_epoch", pj.p.epoch, "stored_epoch", pj.storedEpoch, "refused_docs", docs,
			"refused_checkpoint", pj.ck != nil, "our_offset", pj.off, "refused_by_store", len(pj.storeRefused))
		ids = append(ids, pj.p.id)
	}
	if len(ids) > 0 {
		s.drop(ids)
	}
}

// dirtyPanes returns the partition's dirty panes, oldest first: final
// panes are written, and leave memory, before the open ones.
func (p *partition) dirtyPanes() []*paneState {
	var out []*paneState
	for _, ps := range p.panes {
		if ps.dirty {
			out = append(out, ps)
		}
	}
	slices.SortFunc(out, func(a, b *paneState) int { return a.start.Compare(b.start) })
	return out
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
