package serving

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// meta is what refresh reads from batch_meta for the topic.
type meta struct {
	horizon collections.HorizonDoc
	lake    map[string]any // nil when batch has written no lake summary
}

// store reads the collections serving caches. It holds no state of its
// own but the views' generation the refresher serves (gen), whose
// documents alone readViews hands on; the refresher decides what to read.
type store struct {
	db    *mongo.Database
	topic string
	// docs counts the documents read, for the refresh's cost.
	docs *atomic.Int64
	gen  *atomic.Int64
}

// readGeneration reads the generation of the views' contract in force
// (1 when none is recorded yet).
func (s store) readGeneration(ctx context.Context) (int64, error) {
	var ct collections.Contract
	err := s.db.Collection(collections.ContractCollection).FindOne(ctx, bson.M{"_id": collections.ContractID(s.topic)}).Decode(&ct)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, fmt.Errorf("read %s %s: %w", collections.ContractCollection, collections.ContractID(s.topic), err)
	}
	return collections.CurrentGeneration(ct.Generation), nil
}

// readMeta reads the horizon and lake documents of the topic in one query.
func (s store) readMeta(ctx context.Context) (meta, error) {
	var m meta
	ids := []string{collections.HorizonDocID(s.topic), collections.LakeDocID(s.topic)}
	cur, err := s.db.Collection(collections.MetaCollection).Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
	if err != nil {
		return m, fmt.Errorf("read %s %v: %w", collections.MetaCollection, ids, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		s.docs.Add(1)
		id, _ := cur.Current.Lookup("_id").StringValueOK()
		switch id {
		case collections.HorizonDocID(s.topic):
			if err := cur.Decode(&m.horizon); err != nil {
				return m, fmt.Errorf("decode %s %q: %w", collections.MetaCollection, id, err)
			}
			m.horizon.Horizon = m.horizon.Horizon.UTC()
		case collections.LakeDocID(s.topic):
			var raw bson.M
			if err := cur.Decode(&raw); err != nil {
				return m, fmt.Errorf("decode %s %q: %w", collections.MetaCollection, id, err)
			}
			delete(raw, "_id")
			m.lake = jsonable(raw).(map[string]any)
		}
	}
	if err := cur.Err(); err != nil {
		return m, fmt.Errorf("read %s %v: %w", collections.MetaCollection, ids, err)
	}
	return m, nil
}

// readCheckpoints reads speed's checkpoint of every partition of the topic,
// ordered by partition.
func (s store) readCheckpoints(ctx context.Context) ([]collections.Checkpoint, error) {
	var cps []collections.Checkpoint
	cur, err := s.db.Collection(collections.CheckpointCollection).Find(ctx, bson.M{"topic": s.topic})
	if err != nil {
		return nil, fmt.Errorf("read %s of topic %s: %w", collections.CheckpointCollection, s.topic, err)
	}
	if err := cur.All(ctx, &cps); err != nil {
		return nil, fmt.Errorf("read %s of topic %s: %w", collections.CheckpointCollection, s.topic, err)
	}
	s.docs.Add(int64(len(cps)))
	sort.Slice(cps, func(i, j int) bool { return cps[i].Partition < cps[j].Partition })
	return cps, nil
}

// readBlocked reads the layer processes of the topic that recorded
// themselves blocked (collections.LayerState), ordered by _id.
func (s store) readBlocked(ctx context.Context) ([]collections.LayerState, error) {
	var out []collections.LayerState
	filter := bson.M{"topic": s.topic, "state": collections.LayerBlocked}
	cur, err := s.db.Collection(collections.LayerCollection).Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read %s of topic %s: %w", collections.LayerCollection, s.topic, err)
	}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read %s of topic %s: %w", collections.LayerCollection, s.topic, err)
	}
	return out, nil
}

// ensureIndexes creates the indexes the incremental reads use: `updated`
// and `pane` on the speed collections, `pane` on the batch ones. Creating an
// existing index is a no-op; a failure (a read-only user, or the writer
// made the same index under another name) only makes reads slower, so it
// is returned for logging, not treated as fatal.
func (s store) ensureIndexes(ctx context.Context) error {
	var errs []error
	for _, view := range views.Names {
		for coll, keys := range map[string][]string{
			collections.SpeedCollection(view): {"updated", "pane"},
			collections.BatchCollection(view): {"pane"},
		} {
			for _, k := range keys {
				_, err := s.db.Collection(coll).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: k, Value: 1}}})
				if err != nil {
					errs = append(errs, fmt.Errorf("create index %s.%s: %w", coll, k, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// docProjection leaves out the readable summary: serving decodes only the
// state, and the summary can be as large as the state.
var docProjection = bson.D{{Key: "summary", Value: 0}}

// readViews streams the documents of a view collection matching filter,
// of the generation served, to fn. A document fn rejects is reported through bad and skipped, so one
// corrupt document does not hide all the others.
func (s store) readViews(ctx context.Context, coll string, filter bson.D, fn func(*collections.Doc) error, bad func(id string, err error)) (int, error) {
	cur, err := s.db.Collection(coll).Find(ctx, filter, options.Find().SetProjection(docProjection))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", coll, err)
	}
	defer cur.Close(ctx)
	n := 0
	for cur.Next(ctx) {
		var d collections.Doc
		if err := cur.Decode(&d); err != nil {
			id, _ := cur.Current.Lookup("_id").StringValueOK()
			bad(id, fmt.Errorf("decode %s %q: %w", coll, id, err))
			continue
		}
		if collections.CurrentGeneration(d.Generation) != s.gen.Load() {
			continue // another generation of the views: never mixed in
		}
		if err := fn(&d); err != nil {
			bad(d.ID, fmt.Errorf("%s %q: %w", coll, d.ID, err))
			continue
		}
		n++
	}
	s.docs.Add(int64(n))
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("read %s: %w", coll, err)
	}
	return n, nil
}

// jsonable turns decoded BSON into values encoding/json writes readably:
// dates as RFC 3339 UTC, documents as objects, arrays as arrays.
func jsonable(v any) any {
	switch x := v.(type) {
	case bson.M:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case bson.D:
		out := make(map[string]any, len(x))
		for _, e := range x {
			out[e.Key] = jsonable(e.Value)
		}
		return out
	case bson.A:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case bson.DateTime:
		return x.Time().UTC().Format(time.RFC3339)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case bson.ObjectID:
		return x.Hex()
	case bson.Binary:
		return fmt.Sprintf("<%d bytes>", len(x.Data))
	}
	return v
}
