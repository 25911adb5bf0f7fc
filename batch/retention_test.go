package batch

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// TestSpeedDocRetention checks that a recompute deletes the speed view
// documents that ended at least the margin before the horizon, keeps the
// others and every checkpoint, and keeps everything with a negative
// margin.
func TestSpeedDocRetention(t *testing.T) {
	ctx := testkit.Context(t, 2*time.Minute)
	s := newStack(t)
	s.produce(ctx, append(generate(3, 800, base, base.Add(3*time.Hour)),
		lagging(base.Add(2*time.Hour+50*time.Minute), s.now.Add(-time.Minute))))
	horizon := base.Add(2 * time.Hour) // hours 07 and 08 complete (see TestBatch)

	// Speed documents every 10 minutes over the three hours, on two
	// partitions, and a checkpoint per partition.
	var panes []time.Time
	for p := base; p.Before(base.Add(3 * time.Hour)); p = p.Add(10 * time.Minute) {
		panes = append(panes, p)
	}
	writeSpeed := func() {
		t.Helper()
		for _, view := range views.Names {
			state, err := views.NewPane(0).Encode(view)
			if err != nil {
				t.Fatal(err)
			}
			var models []mongo.WriteModel
			for _, p := range panes {
				for part := int32(0); part < 2; part++ {
					d := collections.Doc{ID: collections.DocID(view, p, part), View: view, Pane: p, PaneEnd: p.Add(time.Minute),
						Partition: part, Offset: 1, Updated: s.now, State: state}
					models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: d.ID}}).SetReplacement(d).SetUpsert(true))
				}
			}
			if _, err := s.db.Collection(collections.SpeedCollection(view)).BulkWrite(ctx, models); err != nil {
				t.Fatal(err)
			}
		}
		for part := 0; part < 2; part++ {
			id := fmt.Sprintf("logs|p%d", part)
			_, err := s.db.Collection("speed_checkpoints").ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}},
				bson.D{{Key: "_id", Value: id}, {Key: "offset", Value: 5}, {Key: "watermark", Value: base}}, options.Replace().SetUpsert(true))
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// kept lists the speed documents left, per view, sorted.
	kept := func() map[string][]string {
		t.Helper()
		out := map[string][]string{}
		for _, view := range append(append([]string{}, views.Names...), "checkpoints") {
			coll := "speed_checkpoints"
			if view != "checkpoints" {
				coll = collections.SpeedCollection(view)
			}
			docs := testkit.All[struct {
				ID string `bson:"_id"`
			}](t, s.db.Collection(coll))
			ids := []string{}
			for _, d := range docs {
				ids = append(ids, d.ID)
			}
			sort.Strings(ids)
			out[view] = ids
		}
		return out
	}
	// expect lists the documents that should survive a cut.
	expect := func(cut time.Time, keepAll bool) map[string][]string {
		out := map[string][]string{"checkpoints": {"logs|p0", "logs|p1"}}
		for _, view := range views.Names {
			ids := []string{}
			for _, p := range panes {
				if keepAll || p.Add(time.Minute).After(cut) {
					ids = append(ids, collections.DocID(view, p, 0), collections.DocID(view, p, 1))
				}
			}
			sort.Strings(ids)
			out[view] = ids
		}
		return out
	}

	writeSpeed()
	sum, err := s.batch(SpeedMargin(-1)).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Recompute.Horizon.Equal(horizon) || sum.Recompute.SpeedDocsDeleted != 0 {
		t.Fatalf("run with margin -1: horizon %s deleted %d, want %s and 0", sum.Recompute.Horizon, sum.Recompute.SpeedDocsDeleted, horizon)
	}
	if got, want := kept(), expect(time.Time{}, true); !reflect.DeepEqual(got, want) {
		t.Fatalf("negative margin deleted documents:\n got %v\nwant %v", got, want)
	}

	for _, margin := range []time.Duration{2 * time.Hour, DefaultSpeedMargin, 29 * time.Minute, 0} {
		t.Run(margin.String(), func(t *testing.T) {
			writeSpeed()
			before := kept()
			rs, err := s.batch(SpeedMargin(margin)).Recompute(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := expect(horizon.Add(-margin), false)
			got := kept()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("after recompute with margin %s:\n got %v\nwant %v", margin, got, want)
			}
			var deleted int64
			for _, view := range views.Names {
				deleted += int64(len(before[view]) - len(want[view]))
			}
			if rs.SpeedDocsDeleted != deleted {
				t.Errorf("summary says %d deleted, want %d", rs.SpeedDocsDeleted, deleted)
			}
		})
	}
}
