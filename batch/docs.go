package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// writeHour replaces the batch documents of hour h by panes: documents of
// panes that no longer exist go first, then the panes' documents per view,
// through the Writer (commands of at most replace.MaxBatch documents). It
// returns the number of documents.
//
// fresh says the hour was never recomputed: its documents are inserted
// (replace.Doc.New), which costs far less than replacing them.
func (b *Batch) writeHour(ctx context.Context, h time.Time, panes map[time.Time]*views.Pane, now time.Time, fresh bool) (int, error) {
	order := sortedPanes(panes)
	n := 0
	for _, view := range views.Names {
		coll := b.db.Collection(collections.BatchCollection(view))
		ids := make([]string, 0, len(order))
		docs := make([]replace.Doc, 0, len(order))
		for _, t := range order {
			p := panes[t]
			state, err := p.Encode(view)
			if err != nil {
				return n, fmt.Errorf("encode %s pane %s: %w", view, collections.PaneKey(t), err)
			}
			doc := collections.Doc{
				ID: collections.DocID(view, t, collections.BatchPartition), View: view,
				Pane: t, PaneEnd: b.grid.End(t), Partition: collections.BatchPartition, Offset: -1,
				Updated: now, State: state, Summary: p.Summary(view), Generation: b.generation(),
			}
			ids = append(ids, doc.ID)
			docs = append(docs, replace.Doc{ID: doc.ID, Body: doc, New: fresh})
		}
		stale := bson.D{
			{Key: "pane", Value: bson.D{{Key: "$gte", Value: h}, {Key: "$lt", Value: h.Add(time.Hour)}}},
			{Key: "_id", Value: bson.D{{Key: "$nin", Value: ids}}},
		}
		if _, err := coll.DeleteMany(ctx, stale); err != nil {
			return n, fmt.Errorf("delete stale %s docs: %w", coll.Name(), err)
		}
		res, err := b.writer.Replace(ctx, coll, docs)
		n += res.Docs
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// writeHorizonDoc stores the horizon and the recomputed hours.
func (b *Batch) writeHorizonDoc(ctx context.Context, m *lake.Manifest, horizon time.Time) error {
	if horizon.IsZero() {
		return nil // empty lake: no batch views, nothing to say
	}
	d := collections.HorizonDoc{ID: collections.HorizonDocID(b.cfg.Topic), Topic: b.cfg.Topic, Horizon: horizon,
		Hours: []time.Time{}, Recomputed: []time.Time{}, Generation: b.generation()}
	hours, _ := m.HourFiles()
	for _, h := range hours {
		if hs := m.Hours[h]; hs != nil && !hs.Recomputed.IsZero() {
			d.Hours = append(d.Hours, h)
			d.Recomputed = append(d.Recomputed, hs.Recomputed.UTC())
		}
	}
	d.Digest = digest(d)
	d.Updated = b.cfg.now().UTC()
	return b.putMeta(ctx, d.ID, d.Digest, d)
}

// writeLakeDoc stores the lake's size from the manifest. Without a
// database (compact alone) it does nothing.
func (b *Batch) writeLakeDoc(ctx context.Context, m *lake.Manifest) error {
	if b.db == nil {
		return nil
	}
	d := collections.LakeDoc{ID: collections.LakeDocID(b.cfg.Topic), Topic: b.cfg.Topic, Hours: []collections.LakeHour{}, Partitions: []collections.LakePartition{}}
	hours, files := m.HourFiles()
	for _, h := range hours {
		lh := collections.LakeHour{Hour: h}
		for _, f := range files[h] {
			lh.Files++
			lh.Rows += f.Rows
			lh.Bytes += f.Bytes
			lh.ParseErrors += f.ParseErrors
		}
		if hs := m.Hours[h]; hs != nil {
			lh.Recomputed, lh.Dirty = hs.Recomputed, hs.Dirty
		}
		d.Files += lh.Files
		d.Rows += lh.Rows
		d.Bytes += lh.Bytes
		d.ParseErrors += lh.ParseErrors
		d.Hours = append(d.Hours, lh)
	}
	for p, ps := range m.Partitions {
		d.Partitions = append(d.Partitions, collections.LakePartition{Partition: p, NextOffset: ps.NextOffset, MaxEventTime: ps.MaxEventTime})
		d.LostOffsets += ps.LostOffsets
	}
	sort.Slice(d.Partitions, func(i, j int) bool { return d.Partitions[i].Partition < d.Partitions[j].Partition })
	d.Digest = digest(d)
	d.Updated = b.cfg.now().UTC()
	return b.putMeta(ctx, d.ID, d.Digest, d)
}

// digest hashes a document's JSON form (which leaves out id, updated and
// digest).
func digest(v any) string {
	data, _ := json.Marshal(v)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// putMeta replaces a batch_meta document unless the stored one has the
// same digest: a run that changes nothing writes nothing.
func (b *Batch) putMeta(ctx context.Context, id, dg string, doc any) error {
	coll := b.db.Collection(collections.MetaCollection)
	var old struct {
		Digest string `bson:"digest"`
	}
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(bson.D{{Key: "digest", Value: 1}})).Decode(&old)
	switch {
	case err == nil && old.Digest == dg:
		return nil
	case err != nil && !errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("read %s %s: %w", collections.MetaCollection, id, err)
	}
	if _, err := b.writer.Replace(ctx, coll, []replace.Doc{{ID: id, Body: doc}}); err != nil {
		return fmt.Errorf("write %s %s: %w", collections.MetaCollection, id, err)
	}
	return nil
}

// generation is the views' contract generation batch writes under.
func (b *Batch) generation() int64 { return collections.CurrentGeneration(b.cfg.Generation) }
