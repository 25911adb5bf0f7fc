package batch

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// The clusters view is not a GROUP BY: a micro-cluster state depends on
// the order of its points. So batch reads the hour's parsed rows in
// partition and offset order, the order speed applied them in, and folds
// them with the same code (views.Clusters.Add) per pane and partition;
// a pane's state is the union of its partitions' states. For a pane speed
// saw whole and without late events, the result is speed's, bit for bit.

// sqlClusterRows lists the rows of an hour's files (argument: the DuckDB
// list literal of the files) with what Clusters.Add reads, in partition and
// offset order. Parse errors are left out, as views.Pane.Add leaves them.
const sqlClusterRows = `
SELECT epoch_us(ts), "partition", "offset", latency_ms, bytes, status, %[2]s
FROM read_parquet(%[1]s, hive_partitioning = false, union_by_name = true)
WHERE parse_error = ''
ORDER BY "partition", "offset"`

// hourClusters replaces the clusters state of every pane of panes by the
// one computed from the hour's files.
func (b *Batch) hourClusters(ctx context.Context, conn *sql.Conn, files []string, panes map[time.Time]*views.Pane) error {
	spec := b.cfg.clusters
	if spec == nil { // a Batch built without New (tests)
		spec = views.DefaultClusterSpec()
	}
	extra := false
	for _, f := range spec.Fields {
		extra = extra || (f != event.ColLatencyMS && f != event.ColBytes && f != event.ColStatus)
	}
	fieldsCol := "''"
	if extra {
		fieldsCol = "fields"
	}
	type key struct {
		pane int64
		part int32
	}
	parts := map[key]*views.Clusters{}
	var ev event.Event
	err := query(ctx, conn, fmt.Sprintf(sqlClusterRows, sqlStringList(files), fieldsCol), func(rows *sql.Rows) error {
		var us, off int64
		var part int32
		var fields string
		ev = event.Event{}
		if err := rows.Scan(&us, &part, &off, &ev.LatencyMS, &ev.Bytes, &ev.Status, &fields); err != nil {
			return err
		}
		if fields != "" {
			if err := json.Unmarshal([]byte(fields), &ev.Fields); err != nil {
				return fmt.Errorf("partition %d offset %d: fields %q: %w", part, off, fields, err)
			}
		}
		ev.Time = time.UnixMicro(us).UTC()
		start := ev.Time.Truncate(b.cfg.Pane) // as hour_rows' pane_us
		k := key{start.Unix(), part}
		c := parts[k]
		if c == nil {
			if panes[start] == nil {
				return fmt.Errorf("pane %s has no traffic row", start.Format(time.RFC3339))
			}
			c = views.NewClusters(spec, start)
			parts[k] = c
		}
		c.Add(&ev)
		return nil
	})
	if err != nil {
		return fmt.Errorf("clusters: %w", err)
	}
	keys := make([]key, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.pane != b.pane {
			return int(a.pane - b.pane)
		}
		return int(a.part - b.part)
	})
	for t, p := range panes {
		p.Clusters = views.NewClusters(spec, t)
	}
	for _, k := range keys {
		p := panes[time.Unix(k.pane, 0).UTC()]
		if err := p.Clusters.Merge(parts[k]); err != nil {
			return fmt.Errorf("clusters: pane %s partition %d: %w", collections.PaneKey(time.Unix(k.pane, 0)), k.part, err)
		}
	}
	return nil
}

// The pyramidal time frame: besides its panes, batch keeps the clusters of
// every recomputed hour and of every day, each the union of the finer
// states reduced to views.TierMicroClusters, so that serving answers a day
// from one state instead of 1,440 panes.

// Tier widths.
const (
	TierHour = time.Hour
	TierDay  = 24 * time.Hour
)

// ClusterTierID is the _id of a tier document: "clusters|<start>|1h".
func ClusterTierID(start time.Time, width time.Duration) string {
	w := "1h"
	if width == TierDay {
		w = "1d"
	}
	return views.ViewClusters + "|" + collections.PaneKey(start) + "|" + w
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
