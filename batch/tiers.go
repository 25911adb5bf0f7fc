package batch

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// The pyramidal time frame: besides its panes, batch keeps every view's
// state of every recomputed hour and of every UTC day (TierCollection),
// each the merge of the finer states (views.Block: an hour of its panes as
// stored, a day of its hour tiers), so that serving answers a day from one
// state per view instead of 1,440 panes and, at start, reads the tiers
// instead of every pane.

// maxTierState bounds a tier's encoded state: a view whose states do not
// merge down (paths of request ids, hot terms of a day) could outgrow a
// MongoDB document (16 MiB). Such a tier is not stored, and serving
// merges that hour or day from its panes instead.
const maxTierState = 8 << 20

// tierRun holds, for one recompute run, the hour tiers of the days it
// touched, by day and hour (Unix seconds: a time.Time key would tell the
// same instant apart by its location, the manifest's from the store's):
// read from the store once per day, then
// replaced as the run recomputes hours, so the day tier written after
// each hour is the merge of its hours without reading them again.
type tierRun struct {
	m    *lake.Manifest
	days map[int64]map[int64]*views.Pane
}

func newTierRun(m *lake.Manifest) *tierRun {
	return &tierRun{m: m, days: map[int64]map[int64]*views.Pane{}}
}

// writeTiers writes the hour tier of h from its panes and the day tier of
// h's day from its hour tiers, every view's. The caller records h as
// recomputed only after: a kill before leaves the hour unrecorded, and the
// next run recomputes it and rewrites both tiers.
func (b *Batch) writeTiers(ctx context.Context, run *tierRun, h time.Time, panes map[time.Time]*views.Pane, now time.Time) error {
	day := h.Truncate(views.BlockDay)
	hours, err := b.dayTiers(ctx, run, day)
	if err != nil {
		return err
	}
	// The hour from its panes as stored (decoded from their encoding, as
	// serving reads them: the codec folds a state to its caps).
	parts := make([]*views.Pane, 0, len(panes))
	for _, t := range sortedPanes(panes) {
		p, err := stored(panes[t])
		if err != nil {
			return fmt.Errorf("hour tier %s: pane %s: %w", h.Format(time.RFC3339), collections.PaneKey(t), err)
		}
		parts = append(parts, p)
	}
	// block is written; hour, the block as a later run reads it back,
	// is what the day is merged from, so a run that recomputes the whole
	// day writes the same day tier as runs that recompute it hour by hour
	// (a decoded state holds its view's caps: encoded again, paths would
	// fold beyond 1,000).
	var block, hour *views.Pane
	if len(parts) > 0 {
		block = views.Block(h, parts, true)
		if hour, err = stored(block); err != nil {
			return fmt.Errorf("hour tier %s: %w", h.Format(time.RFC3339), err)
		}
	}
	hours[h.Unix()] = hour
	var dayParts []*views.Pane
	for _, t := range slices.Sorted(maps.Keys(hours)) {
		if hours[t] != nil {
			dayParts = append(dayParts, hours[t])
		}
	}
	var dayBlock *views.Pane
	if len(dayParts) > 0 {
		dayBlock = views.Block(day, dayParts, true)
	}
	for _, view := range views.Names {
		if err := b.putTiers(ctx, view, now, tier{h, views.BlockHour, block}, tier{day, views.BlockDay, dayBlock}); err != nil {
			return err
		}
	}
	return nil
}

// tier is one tier document to write: its start, width and state (nil:
// none, the document is deleted).
type tier struct {
	start time.Time
	width time.Duration
	state *views.Pane
}

// putTiers replaces view's documents of tiers (through the one writer) and
// deletes those without a state or too large to store.
func (b *Batch) putTiers(ctx context.Context, view string, now time.Time, tiers ...tier) error {
	coll := b.db.Collection(collections.TierCollection(view))
	var docs []replace.Doc
	var gone []string
	for _, t := range tiers {
		id := collections.TierID(view, t.start, t.width)
		if t.state == nil {
			gone = append(gone, id)
			continue
		}
		state, err := t.state.Encode(view)
		if err != nil {
			return fmt.Errorf("encode %s tier %s: %w", view, id, err)
		}
		if len(state) > maxTierState {
			b.cfg.Logger.Warn("tier state too large to store; serving merges its panes instead",
				"view", view, "id", id, "bytes", len(state), "max", maxTierState)
			gone = append(gone, id)
			continue
		}
		doc := collections.Doc{ID: id, View: view, Pane: t.start, PaneEnd: t.start.Add(t.width),
			Partition: collections.BatchPartition, Offset: -1, Updated: now, State: state, Summary: t.state.Summary(view),
			Generation: b.generation()}
		docs = append(docs, replace.Doc{ID: id, Body: doc})
	}
	if len(gone) > 0 {
		if _, err := coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: gone}}}}); err != nil {
			return fmt.Errorf("delete %s %v: %w", coll.Name(), gone, err)
		}
	}
	if _, err := b.writer.Replace(ctx, coll, docs); err != nil {
		return fmt.Errorf("write %s: %w", coll.Name(), err)
	}
	return nil
}

// dayTiers returns the run's hour tiers of day, reading them the first
// time: every view's stored hour tiers, and for a recomputed hour missing
// some view's tier (written before that view had tiers, or too large) the
// merge of its stored panes.
func (b *Batch) dayTiers(ctx context.Context, run *tierRun, day time.Time) (map[int64]*views.Pane, error) {
	if hours := run.days[day.Unix()]; hours != nil {
		return hours, nil
	}
	hours := map[int64]*views.Pane{}
	found := map[int64]int{}
	for _, view := range views.Names {
		err := b.readDocs(ctx, collections.TierCollection(view), bson.D{
			{Key: "pane", Value: bson.D{{Key: "$gte", Value: day}, {Key: "$lt", Value: day.Add(views.BlockDay)}}},
			{Key: "pane_end", Value: bson.D{{Key: "$lte", Value: day.Add(views.BlockDay)}}},
		}, func(d *collections.Doc) error {
			if d.PaneEnd.Sub(d.Pane) != views.BlockHour {
				return nil
			}
			t := d.Pane.Unix()
			if hours[t] == nil {
				hours[t] = &views.Pane{}
			}
			found[t]++
			return hours[t].Decode(view, d.State)
		})
		if err != nil {
			return nil, err
		}
	}
	for h, n := range found {
		if n < len(views.Names) {
			delete(hours, h)
		}
	}
	for h, hs := range run.m.Hours {
		if h.Truncate(views.BlockDay).Equal(day) && hs != nil && !hs.Recomputed.IsZero() && hours[h.Unix()] == nil {
			p, err := b.hourFromPanes(ctx, h)
			if err != nil {
				return nil, err
			}
			hours[h.Unix()] = p
		}
	}
	run.days[day.Unix()] = hours
	return hours, nil
}

// hourFromPanes is the hour tier of h merged from its stored panes; nil
// when the hour has none.
func (b *Batch) hourFromPanes(ctx context.Context, h time.Time) (*views.Pane, error) {
	panes := map[time.Time]*views.Pane{}
	for _, view := range views.Names {
		err := b.readDocs(ctx, collections.BatchCollection(view), bson.D{
			{Key: "pane", Value: bson.D{{Key: "$gte", Value: h}, {Key: "$lt", Value: h.Add(views.BlockHour)}}},
		}, func(d *collections.Doc) error {
			t := d.Pane.UTC()
			if panes[t] == nil {
				panes[t] = &views.Pane{}
			}
			return panes[t].Decode(view, d.State)
		})
		if err != nil {
			return nil, err
		}
	}
	if len(panes) == 0 {
		return nil, nil
	}
	order := sortedPanes(panes)
	parts := make([]*views.Pane, len(order))
	for i, t := range order {
		parts[i] = panes[t]
	}
	return stored(views.Block(h, parts, true))
}

// readDocs reads the documents of coll matching filter, sorted by pane,
// and hands each of batch's views' generation to fn.
func (b *Batch) readDocs(ctx context.Context, coll string, filter bson.D, fn func(*collections.Doc) error) error {
	cur, err := b.db.Collection(coll).Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "summary", Value: 0}}))
	if err != nil {
		return fmt.Errorf("read %s: %w", coll, err)
	}
	var docs []collections.Doc
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("read %s: %w", coll, err)
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].Pane.Before(docs[j].Pane) })
	for i := range docs {
		if collections.CurrentGeneration(docs[i].Generation) != b.generation() {
			continue
		}
		if err := fn(&docs[i]); err != nil {
			return fmt.Errorf("decode %s %s: %w", coll, docs[i].ID, err)
		}
	}
	return nil
}

// stored returns p as a reader of its documents gets it: every view
// encoded and decoded.
func stored(p *views.Pane) (*views.Pane, error) {
	out := &views.Pane{}
	for _, view := range views.Names {
		data, err := p.Encode(view)
		if err != nil {
			return nil, err
		}
		if err := out.Decode(view, data); err != nil {
			return nil, err
		}
	}
	return out, nil
}
