package alerts

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/schemas/collections"
)

// Collection holds alerts, the rules' last evaluation and the evaluator
// lease, told apart by `kind`; the documents' contract is
// schemas/collections (alerts.go).
const Collection = collections.AlertCollection

// Document kinds in Collection.
const (
	kindAlert = collections.AlertKind
	kindRules = collections.RulesKind
	kindLease = collections.LeaseKind
)

// Alert states.
const (
	StatePending  = collections.AlertPending
	StateFiring   = collections.AlertFiring
	StateResolved = collections.AlertResolved
)

// Delivery states.
const (
	DeliveryQueued = collections.DeliveryQueued
	DeliverySent   = collections.DeliverySent
	DeliveryFailed = collections.DeliveryFailed
)

// Alert, Delivery and RuleStatus are the documents of Collection, declared
// in schemas/collections.
type (
	Alert      = collections.Alert
	Delivery   = collections.Delivery
	RuleStatus = collections.RuleStatus
	rulesDoc   = collections.RulesDoc
)

const rulesDocID = collections.RulesDocID

// store reads and writes Collection.
type store struct {
	coll *mongo.Collection
}

func alertID(rule, fp string, since time.Time) string {
	return collections.AlertID(rule, fp, since)
}

// saveAlerts replaces the alerts by _id, in commands of at most 64
// documents (ARCHITECTURE.md, MongoDB documents: FerretDB's pool).
func (s store) saveAlerts(ctx context.Context, as []*Alert) error {
	for len(as) > 0 {
		n := min(len(as), 64)
		models := make([]mongo.WriteModel, 0, n)
		for _, a := range as[:n] {
			models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.M{"_id": a.ID}).SetReplacement(a).SetUpsert(true))
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := s.coll.BulkWrite(wctx, models, options.BulkWrite().SetOrdered(false))
		cancel()
		if err != nil {
			return fmt.Errorf("write %d alerts to %s: %w", n, s.coll.Name(), err)
		}
		as = as[n:]
	}
	return nil
}

// deleteAlert removes a pending alert whose condition stopped holding
// before it fired: nobody was told, so there is nothing to remember.
func (s store) deleteAlert(ctx context.Context, id string) error {
	if _, err := s.coll.DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return fmt.Errorf("delete alert %s: %w", id, err)
	}
	return nil
}

// readAlerts reads every alert document; the collection holds the active
// alerts and a bounded history, so it stays small.
func (s store) readAlerts(ctx context.Context) ([]*Alert, error) {
	cur, err := s.coll.Find(ctx, bson.M{"kind": kindAlert})
	if err != nil {
		return nil, fmt.Errorf("read alerts from %s: %w", s.coll.Name(), err)
	}
	var out []*Alert
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read alerts from %s: %w", s.coll.Name(), err)
	}
	for _, a := range out {
		a.ActiveSince, a.FiredAt, a.ResolvedAt, a.Updated = a.ActiveSince.UTC(), a.FiredAt.UTC(), a.ResolvedAt.UTC(), a.Updated.UTC()
		for i := range a.Deliveries {
			d := &a.Deliveries[i]
			d.NextAt, d.SentAt = d.NextAt.UTC(), d.SentAt.UTC()
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ActiveSince.After(out[j].ActiveSince) })
	return out, nil
}

// pruneResolved deletes resolved alerts older than before whose
// notifications are all done.
func (s store) pruneResolved(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.coll.DeleteMany(ctx, bson.M{"kind": kindAlert, "state": StateResolved, "resolved_at": bson.M{"$lt": before}})
	if err != nil {
		return 0, fmt.Errorf("prune resolved alerts: %w", err)
	}
	return res.DeletedCount, nil
}

func (s store) saveRules(ctx context.Context, d rulesDoc) error {
	d.ID, d.Kind = rulesDocID, kindRules
	if _, err := s.coll.ReplaceOne(ctx, bson.M{"_id": d.ID}, d, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("write rule status to %s: %w", s.coll.Name(), err)
	}
	return nil
}

func (s store) readRules(ctx context.Context) (rulesDoc, error) {
	var d rulesDoc
	err := s.coll.FindOne(ctx, bson.M{"_id": rulesDocID}).Decode(&d)
	if err == mongo.ErrNoDocuments {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("read rule status from %s: %w", s.coll.Name(), err)
	}
	return d, nil
}
