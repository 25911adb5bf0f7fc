package collections

import (
	"fmt"
	"hash/fnv"
	"sort"
	"time"
)

// AlertCollection holds the alerting engine's documents (serving/alerts):
// each alert with its notifications, the rules' last evaluation and the
// evaluator lease, told apart by `kind`. Only the lease holder writes
// alerts; every serving process reads them for /v1/alerts and /v1/rules.
const AlertCollection = "alerts"

// Document kinds in AlertCollection.
const (
	AlertKind = "alert"
	RulesKind = "rules"
	LeaseKind = "lease"
)

// Alert states.
const (
	AlertPending  = "pending"
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// Delivery states: a delivery is written queued, with its notification's
// id, before its first attempt, so a process killed while sending sends
// again after restart with the same id (receivers deduplicate on it).
const (
	DeliveryQueued = "queued"
	DeliverySent   = "sent"
	DeliveryFailed = "failed"
)

// Alert is one alert: a rule's label set from the moment its condition
// first held until it resolved, replaced whole on each change. Times are
// whole milliseconds (what a BSON date keeps), so an alert read back
// equals the one written and a resolution's startsAt equals its firing's.
type Alert struct {
	ID   string `bson:"_id" json:"id"` // AlertID
	Kind string `bson:"kind" json:"-"` // AlertKind
	Rule string `bson:"rule" json:"rule"`
	// Fingerprint is Alertmanager's fingerprint of Labels (Fingerprint).
	Fingerprint string            `bson:"fingerprint" json:"fingerprint"`
	Labels      map[string]string `bson:"labels" json:"labels"`
	Annotations map[string]string `bson:"annotations" json:"annotations"`
	State       string            `bson:"state" json:"state"`
	// Value is the measure when the alert last changed state: at firing
	// the value that crossed, at resolution the value then (0 when the
	// group had no sample any more).
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
	// ID is the notification's stable id (NotificationID), sent with
	// every attempt.
	ID       string `bson:"id" json:"id"`
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

// RulesDoc is the rules' last evaluation, written by the evaluator under
// RulesDocID.
type RulesDoc struct {
	ID          string       `bson:"_id"`
	Kind        string       `bson:"kind"` // RulesKind
	EvaluatedBy string       `bson:"evaluated_by"`
	Updated     time.Time    `bson:"updated"`
	Rules       []RuleStatus `bson:"rules"`
}

// RulesDocID is the _id of the RulesDoc.
const RulesDocID = "rules"

// LeaseDoc is one epoch of the evaluator lease, `lease|<epoch>`
// (LeaseID): the holder of the newest epoch renews it; when it has
// expired the others race to insert the next epoch, and the unique _id
// lets one win.
type LeaseDoc struct {
	ID       string    `bson:"_id"`
	Kind     string    `bson:"kind"` // LeaseKind
	Epoch    int64     `bson:"epoch"`
	Holder   string    `bson:"holder"`
	Acquired time.Time `bson:"acquired"`
	Expires  time.Time `bson:"expires"`
	// Proc names the holder's process (boot, pid namespace, pid); empty
	// when unknown.
	Proc string `bson:"proc,omitempty"`
}

// LeaseID is the _id of a lease epoch's document.
func LeaseID(epoch int64) string { return fmt.Sprintf("lease|%d", epoch) }

// AlertID is the _id of an alert: its rule, fingerprint and the second
// it first held.
func AlertID(rule, fingerprint string, since time.Time) string {
	return fmt.Sprintf("alert|%s|%s|%d", rule, fingerprint, since.Unix())
}

// NotificationID is the stable id of one notification: the alert, the
// transition and the notifier. Every attempt, before and after a crash,
// carries it.
func NotificationID(alertID, status, notifier string) string {
	return alertID + "|" + status + "|" + notifier
}

// Fingerprint is Alertmanager's fingerprint of a label set (prometheus
// model.LabelSet.Fingerprint): FNV-1a 64 over the names in order, each
// name and value followed by the byte 0xff, as 16 hex digits. A receiver
// pairing loglambda's alerts with Alertmanager's finds the same value.
func Fingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	h := fnv.New64a()
	sep := []byte{0xff}
	for _, k := range names {
		h.Write([]byte(k))
		h.Write(sep)
		h.Write([]byte(labels[k]))
		h.Write(sep)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}
