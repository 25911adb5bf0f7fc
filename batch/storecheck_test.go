package batch

import (
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// TestStoreLostWrites: the store loses the last writes of a run (an OS
// crash under the embedded store's LazySync) while the lake's manifest
// keeps its record of the hours: the next run recomputes the hours the
// store's horizon document does not list with the manifest's time, and
// only those, and the documents are again the lines' figures.
func TestStoreLostWrites(t *testing.T) {
	ctx := testkit.Context(t, 3*time.Minute)
	s := newStack(t)
	all := generate(5, 1500, base, base.Add(3*time.Hour))
	s.produce(ctx, all)
	first, err := s.batch().Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hours := first.Recompute.Hours
	if len(hours) < 2 {
		t.Fatalf("first run recomputed %v, want at least 2 hours", hours)
	}
	last := hours[len(hours)-1]
	to := last.Add(time.Hour)
	s.checkViews(ctx, all, base, to)

	t.Run("an hour listed with an older time is recomputed alone", func(t *testing.T) {
		s.t = t
		// The store kept an earlier recompute of the first hour: its
		// horizon document says so.
		meta := s.db.Collection(collections.MetaCollection)
		h := s.horizon(ctx)
		h.Recomputed[0] = h.Recomputed[0].Add(-time.Hour)
		if _, err := meta.ReplaceOne(ctx, bson.D{{Key: "_id", Value: h.ID}}, h); err != nil {
			t.Fatal(err)
		}
		s.now = s.now.Add(time.Minute)
		sum, err := s.batch().Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(utc(sum.Recompute.Hours), hours[:1]) || sum.Recompute.DirtyHours != 1 {
			t.Errorf("recomputed %v (%d dirty), want %v alone", sum.Recompute.Hours, sum.Recompute.DirtyHours, hours[:1])
		}
		s.checkViews(ctx, all, base, to)
	})

	t.Run("documents, tiers and horizon document lost", func(t *testing.T) {
		s.t = t
		// The run's last writes gone: the last hour's documents and
		// tiers, and the horizon document written after them.
		for _, view := range views.Names {
			hour := bson.D{{Key: "pane", Value: bson.D{{Key: "$gte", Value: last}, {Key: "$lt", Value: to}}}}
			if _, err := s.db.Collection(collections.BatchCollection(view)).DeleteMany(ctx, hour); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.Collection(collections.TierCollection(view)).DeleteMany(ctx, hour); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.db.Collection(collections.MetaCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: collections.HorizonDocID("logs")}}); err != nil {
			t.Fatal(err)
		}
		s.now = s.now.Add(time.Minute)
		sum, err := s.batch().Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(utc(sum.Recompute.Hours), hours) {
			t.Errorf("recomputed %v, want every recorded hour %v", sum.Recompute.Hours, hours)
		}
		s.checkViews(ctx, all, base, to)
		s.checkTiers(ctx)
		if h := s.horizon(ctx); !reflect.DeepEqual(utc(h.Hours), hours) {
			t.Errorf("horizon document lists %v, want %v", h.Hours, hours)
		}
		// And then nothing more: the store agrees with the lake again.
		before := s.snapshot(ctx)
		s.now = s.now.Add(time.Minute)
		sum, err = s.batch().Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Recompute.Hours) != 0 {
			t.Errorf("a run after the repair recomputed %v", sum.Recompute.Hours)
		}
		if after := s.snapshot(ctx); !reflect.DeepEqual(before, after) {
			t.Errorf("a run after the repair changed the lake or the documents")
		}
	})
}
