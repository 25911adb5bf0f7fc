package alerts

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection holds alerts, the rules' last evaluation and the evaluator
// lease, told apart by `kind`.
const Collection = "alerts"

// Document kinds in Collection.
const (
	kindAlert = "alert"
	kindRules = "rules"
	kindLease = "lease"
)

// Alert states.
const (
	StatePending  = "pending"
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Delivery states.
const (
	DeliveryQueued = "queued"
	DeliverySent   = "sent"
	DeliveryFailed = "failed"
)

// Alert is one alert: a rule's label set from the moment its condition
// first held until it resolved. It is the document kept in Collection,
// replaced whole on each change.
type Alert struct {
	ID          string            `bson:"_id" json:"id"`
	Kind        string            `bson:"kind" json:"-"`
	Rule        string            `bson:"rule" json:"rule"`
	Fingerprint string            `bson:"fingerprint" json:"fingerprint"`
	Labels      map[string]string `bson:"labels" json:"labels"`
	Annotations map[string]string `bson:"annotations" json:"annotations"`
	State       string            `bson:"state" json:"state"`
	// Value is the measure when the alert last changed state.
	Value float64 `bson:"value" json:"value"`
	// ActiveSince is when the condition first held (pending); FiredAt and
	// ResolvedAt are zero until then.
	ActiveSince time.Time  `bson:"active_since" json:"active_since"`
	FiredAt     time.Time  `bson:"fired_at,omitempty" json:"fired_at,omitzero"`
	ResolvedAt  time.Time  `bson:"resolved_at,omitempty" json:"resolved_at,omitzero"`
	Deliveries  []Delivery `bson:"deliveries" json:"deliveries"`
	Updated     time.Time  `bson:"updated" json:"updated"`
}

// Delivery is one notification of a transition (firing or resolved) to
// one notifier.
type Delivery struct {
	Notifier string `bson:"notifier" json:"notifier"`
	// Status is the transition told: firing or resolved.
	Status    string    `bson:"status" json:"status"`
	State     string    `bson:"state" json:"state"`
	Attempts  int       `bson:"attempts" json:"attempts"`
	NextAt    time.Time `bson:"next_at,omitempty" json:"next_at,omitzero"`
	SentAt    time.Time `bson:"sent_at,omitempty" json:"sent_at,omitzero"`
	LastError string    `bson:"last_error,omitempty" json:"last_error,omitempty"`
}

// RuleStatus is a rule's last evaluation.
type RuleStatus struct {
	Name      string    `bson:"name" json:"name"`
	LastEval  time.Time `bson:"last_eval" json:"last_eval"`
	TookMS    float64   `bson:"took_ms" json:"took_ms"`
	Samples   int       `bson:"samples" json:"samples"`
	Hits      int       `bson:"hits" json:"hits"`
	LastError string    `bson:"last_error,omitempty" json:"last_error,omitempty"`
	// Warning says what may make the last answer incomplete (a new
	// pattern rule's window with lines folded into "(other)").
	Warning string `bson:"warning,omitempty" json:"warning,omitempty"`
}

// rulesDoc is the rules' last evaluation, written by the evaluator.
type rulesDoc struct {
	ID          string       `bson:"_id"`
	Kind        string       `bson:"kind"`
	EvaluatedBy string       `bson:"evaluated_by"`
	Updated     time.Time    `bson:"updated"`
	Rules       []RuleStatus `bson:"rules"`
}

const rulesDocID = "rules"

// store reads and writes Collection.
type store struct {
	coll *mongo.Collection
}

func alertID(rule, fp string, since time.Time) string {
	return fmt.Sprintf("alert|%s|%s|%d", rule, fp, since.Unix())
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
