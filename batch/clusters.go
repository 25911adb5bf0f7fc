package batch

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// The pyramidal time frame: besides its panes, batch keeps the clusters of
// every recomputed hour and of every day, each the union of the finer
// states reduced to views.TierMicroClusters, so that serving answers a day
// from one state instead of 1,440 panes.

// Tier widths.
const (
	TierHour = time.Hour
	TierDay  = 24 * time.Hour
)

// ClusterTierID is the _id of a tier document (collections.ClusterTierID).
func ClusterTierID(start time.Time, width time.Duration) string {
	return collections.ClusterTierID(start, width)
}

// writeClusterHour writes the hour tier of h from its panes.
func (b *Batch) writeClusterHour(ctx context.Context, h time.Time, panes map[time.Time]*views.Pane, now time.Time) error {
	acc := views.NewClusters(views.DefaultClusterSpec(), h)
	for _, t := range sortedPanes(panes) {
		if err := acc.Merge(panes[t].Clusters); err != nil {
			return fmt.Errorf("clusters hour tier: %w", err)
		}
	}
	acc.Reduce(views.TierMicroClusters)
	return b.putClusterTier(ctx, acc, h, TierHour, now)
}

// writeClusterDays rewrites the day tier of every day holding one of
// hours, from the hour tiers stored.
func (b *Batch) writeClusterDays(ctx context.Context, hours []time.Time, now time.Time) error {
	days := map[time.Time]bool{}
	for _, h := range hours {
		days[h.Truncate(TierDay)] = true
	}
	coll := b.db.Collection(collections.ClusterTierCollection)
	for day := range days {
		filter := bson.D{
			{Key: "pane", Value: bson.D{{Key: "$gte", Value: day}, {Key: "$lt", Value: day.Add(TierDay)}}},
			{Key: "pane_end", Value: bson.D{{Key: "$lte", Value: day.Add(TierDay)}}},
		}
		cur, err := coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "pane", Value: 1}}))
		if err != nil {
			return fmt.Errorf("read %s of %s: %w", collections.ClusterTierCollection, day.Format(time.DateOnly), err)
		}
		var docs []collections.Doc
		if err := cur.All(ctx, &docs); err != nil {
			return fmt.Errorf("read %s of %s: %w", collections.ClusterTierCollection, day.Format(time.DateOnly), err)
		}
		acc := views.NewClusters(views.DefaultClusterSpec(), day)
		for _, d := range docs {
			if d.PaneEnd.Sub(d.Pane) != TierHour {
				continue
			}
			var c views.Clusters
			if err := c.UnmarshalBinary(d.State); err != nil {
				return fmt.Errorf("decode %s: %w", d.ID, err)
			}
			if err := acc.Merge(&c); err != nil {
				return fmt.Errorf("day tier %s: %w", day.Format(time.DateOnly), err)
			}
		}
		acc.Reduce(views.TierMicroClusters)
		if err := b.putClusterTier(ctx, acc, day, TierDay, now); err != nil {
			return err
		}
	}
	return nil
}

func (b *Batch) putClusterTier(ctx context.Context, c *views.Clusters, start time.Time, width time.Duration, now time.Time) error {
	state, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	id := ClusterTierID(start, width)
	doc := collections.Doc{ID: id, View: views.ViewClusters, Pane: start, PaneEnd: start.Add(width),
		Partition: collections.BatchPartition, Offset: -1, Updated: now, State: state, Summary: c.Summary()}
	_, err = b.db.Collection(collections.ClusterTierCollection).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("write %s %s: %w", collections.ClusterTierCollection, id, err)
	}
	return nil
}
