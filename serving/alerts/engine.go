package alerts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/proc"
	"github.com/loglambda/loglambda/schemas/collections"
)

// Engine evaluates the rules every interval while it holds the lease, and
// delivers the notifications of each transition.
type Engine struct {
	cfg     cfg
	src     Source
	st      store
	metrics *engineMetrics

	// rules is the rule set in force; a failed reload leaves it as is.
	rules     atomic.Pointer[Rules]
	reloadErr atomic.Pointer[string]
	loadedAt  atomic.Pointer[time.Time]

	// mu guards everything below: the evaluation state of the lease
	// holder.
	mu    sync.Mutex
	lease lease
	// alerts are the alerts this holder tracks, by _id: every pending and
	// firing one, and resolved ones with a delivery still queued; byKey
	// indexes the pending and firing ones by rule|fingerprint.
	alerts  map[string]*Alert
	byKey   map[string]*Alert
	holding bool
	status  map[string]RuleStatus
	// pruned is when resolved alerts past the history were last deleted.
	pruned time.Time
	// unsaved are alerts changed in memory whose last write failed: none
	// of their notifications is sent until they are written, so that
	// every notification is recorded, with its id, before it is sent.
	unsaved map[string]*Alert
}

// New returns an engine over src that keeps its state in db's `alerts`
// collection. It reads the rule file (an error if the file is bad) but
// touches neither db nor src until Run or Evaluate.
func New(db *mongo.Database, src Source, opts ...Opt) (*Engine, error) {
	if db == nil || src == nil {
		return nil, errors.New("alerts: database or source is nil")
	}
	c := defaultCfg()
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	coll := db.Collection(Collection)
	e := &Engine{
		cfg:     c,
		src:     src,
		st:      store{coll: coll},
		metrics: newEngineMetrics(c.reg),
		lease:   lease{coll: coll, holder: c.holder, proc: proc.Self(), ttl: c.leaseTTL},
		alerts:  map[string]*Alert{},
		byKey:   map[string]*Alert{},
		status:  map[string]RuleStatus{},
		unsaved: map[string]*Alert{},
	}
	rs := &Rules{Notifiers: map[string]*Notifier{}}
	if c.rulesFile != "" {
		var err error
		if rs, err = e.read(); err != nil {
			return nil, err
		}
	}
	e.setRules(rs)
	return e, nil
}

// read reads and checks the rule file, including what only the engine
// knows: windows must be whole panes.
func (e *Engine) read() (*Rules, error) {
	rs, err := ReadFile(e.cfg.rulesFile, ruleViews(e.src))
	if err != nil {
		return nil, err
	}
	pane := e.src.Pane()
	var errs []error
	for _, r := range rs.Rules {
		if r.Window%pane != 0 {
			errs = append(errs, &RuleError{Rule: r.Name, Field: "window", Msg: fmt.Sprintf("%s is not a multiple of the pane %s", r.Window, pane)})
		}
		if r.Baseline != nil && r.Baseline.Every%pane != 0 {
			errs = append(errs, &RuleError{Rule: r.Name, Field: "baseline.every", Msg: fmt.Sprintf("%s is not a multiple of the pane %s", r.Baseline.Every, pane)})
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("rule file %s: %w", e.cfg.rulesFile, errors.Join(errs...))
	}
	for _, r := range rs.Rules {
		if err := e.supports(r); err != nil {
			e.cfg.logger.Warn("alert rule needs a view this server lacks; it will evaluate to an error", "rule", r.Name, "err", err)
		}
	}
	return rs, nil
}

// supports reports whether the source serves the rule's view.
func (e *Engine) supports(r *Rule) error {
	switch r.View {
	case "patterns":
		if _, ok := e.src.(PatternSource); !ok {
			return fmt.Errorf("view patterns: %w", errNoView)
		}
	case "clusters":
		if _, ok := e.src.(ClusterSource); !ok {
			return fmt.Errorf("view clusters: %w", errNoView)
		}
	default:
		if _, own := viewSpecs[r.View]; !own {
			if _, ok := ruleViews(e.src)[r.View]; !ok {
				return fmt.Errorf("view %s: %w", r.View, errNoView)
			}
		}
	}
	return nil
}

func (e *Engine) setRules(rs *Rules) {
	now := e.cfg.now().UTC()
	e.rules.Store(rs)
	e.loadedAt.Store(&now)
	e.reloadErr.Store(nil)
	e.metrics.rules.Set(float64(len(rs.Rules)))
}

// Reload reads the rule file again. A file with a mistake is refused (the
// error names the rule, the field and what is wrong) and the rules in
// force keep running.
func (e *Engine) Reload() error {
	if e.cfg.rulesFile == "" {
		return errors.New("no rule file to reload (start with --rules FILE)")
	}
	rs, err := e.read()
	if err != nil {
		msg := err.Error()
		e.reloadErr.Store(&msg)
		e.metrics.reloads.WithLabelValues("error").Inc()
		e.cfg.logger.Error("rule file refused; the rules loaded before keep running", "file", e.cfg.rulesFile, "err", err)
		return err
	}
	e.setRules(rs)
	e.metrics.reloads.WithLabelValues("ok").Inc()
	e.cfg.logger.Info("rule file loaded", "file", e.cfg.rulesFile, "rules", len(rs.Rules), "notifiers", len(rs.Notifiers))
	return nil
}

// Run evaluates at once and then every interval, and delivers queued
// notifications as their retries fall due, until ctx is done; then it
// releases the lease so that another process takes over at once.
func (e *Engine) Run(ctx context.Context) error {
	e.cfg.logger.Info("alert evaluation", "every", e.cfg.every, "rules", len(e.rules.Load().Rules), "holder", e.cfg.holder)
	eval := time.NewTicker(e.cfg.every)
	defer eval.Stop()
	retry := time.NewTicker(min(max(e.cfg.retryBase/2, 10*time.Millisecond), time.Second))
	defer retry.Stop()
	e.tick(ctx)
	for {
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := e.Close(rctx); err != nil {
				e.cfg.logger.Warn("alert lease not released; another process takes over when it expires", "err", err)
			}
			cancel()
			return nil
		case <-eval.C:
			e.tick(ctx)
		case <-retry.C:
			if err := e.Deliver(ctx); err != nil && ctx.Err() == nil {
				e.cfg.logger.Warn("alert deliveries not recorded", "err", err)
			}
		}
	}
}

func (e *Engine) tick(ctx context.Context) {
	if err := e.Evaluate(ctx); err != nil && ctx.Err() == nil {
		e.cfg.logger.Warn("alert evaluation failed", "err", err)
	}
	if err := e.Deliver(ctx); err != nil && ctx.Err() == nil {
		e.cfg.logger.Warn("alert deliveries not recorded", "err", err)
	}
}

// Evaluate takes or renews the lease and, when held, evaluates every rule
// once at the engine's clock, moves each alert through pending, firing
// and resolved, and queues the notifications of each transition. Run
// calls it every interval; tests call it directly.
func (e *Engine) Evaluate(ctx context.Context) error {
	now := e.clock()
	e.mu.Lock()
	defer e.mu.Unlock()
	ok, err := e.lease.acquire(ctx, now)
	if !ok {
		if e.holding {
			e.cfg.logger.Info("alert lease lost; another process evaluates", "holder", e.cfg.holder, "err", err)
		}
		e.holding = false
		e.alerts, e.byKey = map[string]*Alert{}, map[string]*Alert{}
		e.metrics.leaseHeld.Set(0)
		return err
	}
	if err != nil {
		e.cfg.logger.Warn("alert lease not renewed; evaluating while it lasts", "until", e.lease.until, "err", err)
	}
	if !e.holding {
		if err := e.load(ctx); err != nil {
			return err
		}
		e.holding = true
		e.metrics.leaseHeld.Set(1)
		if gone := e.lease.goneHolder; gone != "" {
			e.cfg.logger.Info("alert lease taken before its expiry: its holder's process has ended", "holder", e.cfg.holder, "previous", gone, "epoch", e.lease.epoch, "alerts", len(e.alerts))
		} else {
			e.cfg.logger.Info("alert lease taken: this process evaluates", "holder", e.cfg.holder, "epoch", e.lease.epoch, "alerts", len(e.alerts))
		}
	}
	rs := e.rules.Load()
	changed := map[string]*Alert{}
	var deleted []string
	inRules := map[string]*Rule{}
	status := map[string]RuleStatus{}
	for _, r := range rs.Rules {
		inRules[r.Name] = r
		start := time.Now()
		o, err := evaluate(ctx, e.src, r, now)
		hits := o.hits
		st := RuleStatus{Name: r.Name, LastEval: now, TookMS: float64(time.Since(start).Microseconds()) / 1000,
			Samples: o.samples, Hits: len(hits), Warning: o.warning}
		if st.Warning != "" && e.status[r.Name].Warning == "" {
			e.cfg.logger.Warn("alert rule evaluation may be incomplete", "rule", r.Name, "warning", st.Warning)
		}
		if err != nil {
			// The rule's alerts stay as they are: an error says nothing
			// about whether the condition holds.
			st.LastError = err.Error()
			status[r.Name] = st
			e.metrics.evaluations.WithLabelValues(r.Name, "error").Inc()
			if prev := e.status[r.Name]; prev.LastError != st.LastError {
				e.cfg.logger.Warn("alert rule evaluation failed", "rule", r.Name, "err", err)
			}
			continue
		}
		status[r.Name] = st
		e.metrics.evaluations.WithLabelValues(r.Name, "ok").Inc()
		holds := map[string]bool{}
		for _, h := range hits {
			labels := alertLabels(r, h.Labels)
			fp := fingerprint(labels)
			key := r.Name + "|" + fp
			holds[key] = true
			a := e.byKey[key]
			if a == nil {
				a = &Alert{ID: alertID(r.Name, fp, now), Kind: kindAlert, Rule: r.Name, Fingerprint: fp,
					Labels: labels, State: StatePending, ActiveSince: now, Value: h.Value}
				a.Annotations = render(r, h, rs)
				e.alerts[a.ID], e.byKey[key] = a, a
				changed[a.ID] = a
			}
			if a.State == StatePending && now.Sub(a.ActiveSince) >= r.For {
				a.State, a.FiredAt, a.Value = StateFiring, now, h.Value
				a.Annotations = render(r, h, rs)
				e.queue(a, StateFiring, r.Notify, now)
				changed[a.ID] = a
				e.cfg.logger.Info("alert firing", "rule", r.Name, "labels", a.Labels, "value", h.Value)
			}
		}
		var values map[string]float64
		for key, a := range e.byKey {
			if a.Rule == r.Name && !holds[key] {
				if values == nil {
					values = resolvedValues(r, o.all)
				}
				if a.State == StateFiring {
					// The value at resolution, and the annotations that
					// quote it (a threshold's; the others describe the
					// firing, a baseline or a template, and stay).
					a.Value = values[a.Fingerprint]
					if r.Threshold != nil {
						a.Annotations = render(r, hit{Sample: Sample{Labels: a.Labels, Value: a.Value}}, rs)
					}
				}
				if id, gone := e.end(key, a, r.Notify, now, changed); gone {
					deleted = append(deleted, id)
				}
			}
		}
	}
	// Alerts of rules no longer in the file end: a firing one is resolved
	// (and its notifiers told), a pending one forgotten.
	for key, a := range e.byKey {
		if inRules[a.Rule] == nil {
			if id, gone := e.end(key, a, notifiedBy(a), now, changed); gone {
				deleted = append(deleted, id)
			}
		}
	}
	e.status = status
	var errs []error
	for id, a := range changed {
		a.Updated = now
		e.unsaved[id] = a
	}
	if err := e.saveUnsaved(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, id := range deleted {
		delete(e.unsaved, id)
		if err := e.st.deleteAlert(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	if err := e.st.saveRules(ctx, rulesDoc{EvaluatedBy: e.cfg.holder, Updated: now, Rules: statusList(status)}); err != nil {
		errs = append(errs, err)
	}
	if now.Sub(e.pruned) > time.Hour {
		if n, err := e.st.pruneResolved(ctx, now.Add(-e.cfg.history)); err != nil {
			errs = append(errs, err)
		} else {
			e.pruned = now
			if n > 0 {
				e.cfg.logger.Info("old resolved alerts deleted", "deleted", n, "history", e.cfg.history)
			}
		}
	}
	e.forgetDone()
	e.setGauges()
	return errors.Join(errs...)
}

// end ends an alert whose condition no longer holds: a firing alert is
// resolved and its notifiers told; a pending one is dropped (its id is
// returned to delete it).
func (e *Engine) end(key string, a *Alert, notify []string, now time.Time, changed map[string]*Alert) (string, bool) {
	delete(e.byKey, key)
	if a.State == StatePending {
		delete(e.alerts, a.ID)
		delete(changed, a.ID)
		return a.ID, true
	}
	a.State, a.ResolvedAt = StateResolved, now
	e.queue(a, StateResolved, notify, now)
	changed[a.ID] = a
	e.cfg.logger.Info("alert resolved", "rule", a.Rule, "labels", a.Labels)
	return "", false
}

// queue adds a delivery of the transition to each notifier, due now,
// with its stable id; it is written before it is sent (saveUnsaved).
func (e *Engine) queue(a *Alert, status string, notify []string, now time.Time) {
	for _, n := range notify {
		a.Deliveries = append(a.Deliveries, Delivery{ID: collections.NotificationID(a.ID, status, n), Notifier: n,
			Status: status, State: DeliveryQueued, NextAt: now})
	}
}

// saveUnsaved writes the alerts changed since their last write; those it
// could not write stay unsaved, and their notifications unsent.
func (e *Engine) saveUnsaved(ctx context.Context) error {
	if len(e.unsaved) == 0 {
		return nil
	}
	if err := e.st.saveAlerts(ctx, values(e.unsaved)); err != nil {
		return err
	}
	clear(e.unsaved)
	return nil
}

// clock is the engine's time to the millisecond, what a BSON date keeps:
// an alert read back after a restart has the times it had, and the
// resolution's startsAt equals the firing's.
func (e *Engine) clock() time.Time {
	return e.cfg.now().UTC().Truncate(time.Millisecond)
}

// alertLabels are an alert's labels: the sample's, the rule's, and
// alertname, as Prometheus's rules make them.
func alertLabels(r *Rule, sample map[string]string) map[string]string {
	labels := make(map[string]string, len(sample)+len(r.Labels)+1)
	for k, v := range sample {
		labels[k] = v
	}
	for k, v := range r.Labels {
		labels[k] = v
	}
	labels["alertname"] = r.Name
	return labels
}

// resolvedValues maps the fingerprint of each sample's alert labels to
// its value: what an alert of the rule that resolves reports. A group
// without a sample any more is absent (0).
func resolvedValues(r *Rule, all []Sample) map[string]float64 {
	out := make(map[string]float64, len(all))
	for _, s := range all {
		out[fingerprint(alertLabels(r, s.Labels))] = s.Value
	}
	return out
}

// notifiedBy lists the notifiers an alert's firing was sent to, so that
// its resolution goes to the same ones when its rule is gone.
func notifiedBy(a *Alert) []string {
	var out []string
	for _, d := range a.Deliveries {
		if d.Status == StateFiring {
			out = append(out, d.Notifier)
		}
	}
	return out
}

// load reads the alerts a new lease holder takes over: the pending and
// firing ones and resolved ones with deliveries still queued.
func (e *Engine) load(ctx context.Context) error {
	as, err := e.st.readAlerts(ctx)
	if err != nil {
		return err
	}
	e.alerts, e.byKey = map[string]*Alert{}, map[string]*Alert{}
	clear(e.unsaved)
	for _, a := range as {
		// Alerts written before the fingerprint was Alertmanager's carry
		// another; recomputed, they go on as the same alerts.
		a.Fingerprint = fingerprint(a.Labels)
		for i := range a.Deliveries {
			if d := &a.Deliveries[i]; d.ID == "" {
				d.ID = collections.NotificationID(a.ID, d.Status, d.Notifier)
			}
		}
		switch {
		case a.State == StatePending || a.State == StateFiring:
			e.alerts[a.ID] = a
			e.byKey[a.Rule+"|"+a.Fingerprint] = a
		case queued(a) || e.resendsResolved(a, e.clock()):
			e.alerts[a.ID] = a
		}
	}
	return nil
}

func queued(a *Alert) bool {
	for _, d := range a.Deliveries {
		if d.State == DeliveryQueued {
			return true
		}
	}
	return false
}

// forgetDone drops resolved alerts whose deliveries are all done and no
// longer re-sent to an Alertmanager: they are history, kept in MongoDB
// only.
func (e *Engine) forgetDone() {
	now := e.clock()
	for id, a := range e.alerts {
		if a.State == StateResolved && !queued(a) && !e.resendsResolved(a, now) {
			delete(e.alerts, id)
		}
	}
}

func (e *Engine) setGauges() {
	counts := map[string]int{StatePending: 0, StateFiring: 0}
	for _, a := range e.byKey {
		counts[a.State]++
	}
	for s, n := range counts {
		e.metrics.active.WithLabelValues(s).Set(float64(n))
	}
}

// job is one delivery attempt due, or (refresh) the re-send of a firing
// alert to Alertmanager, which forgets an alert whose endsAt passed.
type job struct {
	alert   *Alert
	i       int
	nf      *Notifier
	n       notification
	refresh bool
}

// Deliver sends every queued notification whose time has come, once each,
// and records the outcome: sent, retried later (doubling the wait) or,
// after the last attempt, failed for good. Only the lease holder sends,
// and only while its lease has time left, so two processes never both
// tell the same transition; and only notifications already written with
// their id, so a crash between sending and recording sends the same id
// again. Firing alerts are re-sent to Alertmanager notifiers every
// resend interval, as Prometheus does.
func (e *Engine) Deliver(ctx context.Context) error {
	now := e.clock()
	e.mu.Lock()
	if !e.holding || !e.lease.held(now, time.Second) {
		e.mu.Unlock()
		return nil
	}
	if err := e.saveUnsaved(ctx); err != nil {
		e.mu.Unlock()
		return fmt.Errorf("notifications not sent until recorded: %w", err)
	}
	rs := e.rules.Load()
	dash := rs.DashboardURL
	if dash == "" {
		dash = e.cfg.dashboardURL
	}
	var jobs []job
	for _, a := range e.alerts {
		for i, d := range a.Deliveries {
			nf := rs.Notifiers[d.Notifier]
			refresh := e.resends(a, d, nf, now)
			if (d.State != DeliveryQueued && !refresh) || d.NextAt.IsZero() || d.NextAt.After(now) {
				continue
			}
			jobs = append(jobs, job{alert: a, i: i, nf: nf, refresh: refresh,
				n: notification{Alert: *a, ID: d.ID, Status: d.Status, Receiver: d.Notifier, DashboardURL: dash, Now: now,
					ValidFor: 4 * max(e.cfg.every, resendOf(nf))}})
		}
	}
	e.mu.Unlock()
	if len(jobs) == 0 {
		return nil
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].alert.ActiveSince.Before(jobs[j].alert.ActiveSince) })
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		if j.nf == nil {
			errs[i] = fmt.Errorf("notifier %q is no longer in the rule file", j.n.Receiver)
			continue
		}
		errs[i] = send(ctx, j.nf, j.n, e.cfg.httpClient, e.cfg.logger)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now = e.clock()
	changed := map[string]*Alert{}
	for i, j := range jobs {
		d := &j.alert.Deliveries[j.i]
		changed[j.alert.ID] = j.alert
		if j.refresh {
			e.refreshed(j, d, errs[i], now)
			continue
		}
		d.Attempts++
		if errs[i] == nil {
			d.State, d.SentAt, d.NextAt, d.LastError = DeliverySent, now, time.Time{}, ""
			if e.resends(j.alert, *d, j.nf, now) {
				d.NextAt = now.Add(resendOf(j.nf))
			}
			e.metrics.sent.WithLabelValues(d.Notifier).Inc()
			e.cfg.logger.Info("alert notification sent", "rule", j.alert.Rule, "status", d.Status, "notifier", d.Notifier, "attempts", d.Attempts, "id", d.ID)
			continue
		}
		d.LastError = errs[i].Error()
		e.metrics.attemptsFailed.WithLabelValues(d.Notifier).Inc()
		optional := j.nf != nil && j.nf.Optional
		if d.Attempts >= e.cfg.attempts || j.nf == nil {
			d.State, d.NextAt = DeliveryFailed, time.Time{}
			e.metrics.failed.WithLabelValues(d.Notifier).Inc()
			level := slog.LevelError
			msg := "alert notification failed for good"
			if optional {
				// A receiver the rule file says may not be running (the
				// demo's): its alert is in the log notifier's lines and
				// in /v1/alerts, so this is news, not an error.
				level, msg = slog.LevelInfo, "alert notification not delivered: the optional receiver did not answer"
			}
			e.cfg.logger.Log(ctx, level, msg, "rule", j.alert.Rule, "status", d.Status,
				"notifier", d.Notifier, "attempts", d.Attempts, "err", errs[i])
			continue
		}
		d.NextAt = now.Add(backoff(e.cfg.retryBase, e.cfg.retryMax, d.Attempts))
		level := slog.LevelWarn
		if optional {
			level = slog.LevelDebug
		}
		e.cfg.logger.Log(ctx, level, "alert notification failed; retrying", "rule", j.alert.Rule, "status", d.Status,
			"notifier", d.Notifier, "attempts", d.Attempts, "next", d.NextAt, "err", errs[i])
	}
	for id, a := range changed {
		a.Updated = now
		e.unsaved[id] = a
	}
	err := e.saveUnsaved(ctx)
	e.forgetDone()
	return err
}

// ResolvedResendFor is how long a resolved alert is re-sent to an
// Alertmanager notifier, every resend interval, after its resolution:
// Prometheus's resolvedRetention, so that an Alertmanager that lost the
// resolution (restarted, unreachable then, or another peer of its
// cluster) learns it. Webhook and mail receivers are told once.
const ResolvedResendFor = 15 * time.Minute

// resends says whether delivery d of a is re-sent to its Alertmanager
// notifier nf at each resend interval, as Prometheus's notifier does: a
// firing alert while it fires (endsAt moved on each time), a resolved one
// for ResolvedResendFor after its resolution (endsAt the resolution),
// unless its labels are active again in a newer alert.
func (e *Engine) resends(a *Alert, d Delivery, nf *Notifier, now time.Time) bool {
	if d.State != DeliverySent || nf == nil || nf.Alertmanager == nil {
		return false
	}
	switch d.Status {
	case StateFiring:
		return a.State == StateFiring
	case StateResolved:
		if a.State != StateResolved || !now.Before(a.ResolvedAt.Add(ResolvedResendFor)) {
			return false
		}
		newer := e.byKey[a.Rule+"|"+a.Fingerprint]
		return newer == nil || newer.ID == a.ID
	}
	return false
}

// resendsResolved says whether resolved alert a is still re-sent to an
// Alertmanager (so it is kept in memory, and taken over by a new lease
// holder).
func (e *Engine) resendsResolved(a *Alert, now time.Time) bool {
	if a.State != StateResolved {
		return false
	}
	rs := e.rules.Load()
	if rs == nil {
		return false
	}
	for _, d := range a.Deliveries {
		if e.resends(a, d, rs.Notifiers[d.Notifier], now) {
			return true
		}
	}
	return false
}

// refreshed records a re-send of an alert to Alertmanager (firing, or
// resolved lately): the next one after the resend interval, or after the
// retry wait when it failed (logged when it starts failing and when it
// works again).
func (e *Engine) refreshed(j job, d *Delivery, err error, now time.Time) {
	if err == nil {
		if d.LastError != "" {
			e.cfg.logger.Info("alert re-sent to Alertmanager again", "rule", j.alert.Rule, "notifier", d.Notifier)
		}
		d.SentAt, d.NextAt, d.LastError = now, now.Add(resendOf(j.nf)), ""
		return
	}
	if d.LastError == "" {
		e.cfg.logger.Warn("alert re-send to Alertmanager failed; retrying while it fires", "rule", j.alert.Rule,
			"notifier", d.Notifier, "err", err)
	}
	d.LastError = err.Error()
	d.NextAt = now.Add(min(max(e.cfg.retryBase, time.Millisecond), resendOf(j.nf)))
}

// resendOf is how often a firing alert is re-sent to an Alertmanager
// notifier; 0 for the others.
func resendOf(nf *Notifier) time.Duration {
	if nf == nil || nf.Alertmanager == nil {
		return 0
	}
	return nf.Alertmanager.Resend
}

// backoff is the wait after the n-th failed attempt: base, doubling, at
// most max.
func backoff(base, max time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// templateData is what annotation templates see.
type templateData struct {
	Labels map[string]string
	Value  float64
	Rule   string
	Window string
	// Threshold is the threshold condition's value.
	Threshold float64
	// Median, Deviations and History describe a seasonal baseline.
	Median, Deviations float64
	History            int
	// Template is a new pattern's template.
	Template string
	// Dashboard is the dashboard's URL.
	Dashboard string
}

// render fills in the rule's annotation templates for a hit; a template
// that fails says so in its place rather than hiding the alert.
func render(r *Rule, h hit, rs *Rules) map[string]string {
	d := templateData{Labels: h.Labels, Value: h.Value, Rule: r.Name, Window: r.Window.String(),
		Median: h.Median, Deviations: h.Deviations, History: h.History, Template: h.Template, Dashboard: rs.DashboardURL}
	if r.Threshold != nil {
		d.Threshold = r.Threshold.Value
	}
	out := map[string]string{}
	for k, t := range r.annotations {
		var b bytes.Buffer
		if err := t.Execute(&b, d); err != nil {
			out[k] = fmt.Sprintf("(template %s: %v)", k, err)
			continue
		}
		out[k] = b.String()
	}
	return out
}

func values(m map[string]*Alert) []*Alert {
	out := make([]*Alert, 0, len(m))
	for _, a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func statusList(m map[string]RuleStatus) []RuleStatus {
	out := make([]RuleStatus, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Close ends the lease at once, so that another process takes over
// without waiting for it to expire; Run does the same when it stops.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.holding = false
	e.metrics.leaseHeld.Set(0)
	return e.lease.release(ctx, e.cfg.now())
}
