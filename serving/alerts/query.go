package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// What /v1/alerts and /v1/rules answer. They read MongoDB, not the
// engine's memory, so every serving process answers the same whichever
// holds the lease.

// Alerts lists the pending and firing alerts, and the resolved ones whose
// resolution falls in [from, to), newest first.
func (e *Engine) Alerts(ctx context.Context, from, to time.Time) ([]Alert, error) {
	as, err := e.st.readAlerts(ctx)
	if err != nil {
		return nil, err
	}
	out := []Alert{}
	for _, a := range as {
		if a.State == StateResolved && (a.ResolvedAt.Before(from) || !a.ResolvedAt.Before(to)) {
			continue
		}
		out = append(out, *a)
	}
	return out, nil
}

// RuleInfo is a rule as loaded, with its last evaluation.
type RuleInfo struct {
	Name        string            `json:"name"`
	View        string            `json:"view"`
	Measure     string            `json:"measure"`
	Where       map[string]string `json:"where,omitempty"`
	GroupBy     []string          `json:"group_by,omitempty"`
	Window      Duration          `json:"window"`
	Delay       Duration          `json:"delay"`
	For         Duration          `json:"for"`
	Condition   string            `json:"condition"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Notify      []string          `json:"notify"`
	// LastEval is zero, and LastError empty, until the rule is evaluated.
	LastEval  time.Time `json:"last_eval,omitzero"`
	TookMS    float64   `json:"took_ms"`
	Samples   int       `json:"samples"`
	Hits      int       `json:"hits"`
	LastError string    `json:"last_error,omitempty"`
	Warning   string    `json:"warning,omitempty"`
}

// RulesAnswer is the rule file in force and how evaluation goes.
type RulesAnswer struct {
	File     string    `json:"file"`
	LoadedAt time.Time `json:"loaded_at"`
	// ReloadError is the last reload's refusal, empty when it succeeded.
	ReloadError string     `json:"reload_error,omitempty"`
	Every       Duration   `json:"every"`
	Evaluator   string     `json:"evaluator"`
	EvaluatedAt time.Time  `json:"evaluated_at,omitzero"`
	Holder      string     `json:"holder"`
	Holding     bool       `json:"holding"`
	Rules       []RuleInfo `json:"rules"`
}

// Rules answers GET /v1/rules.
func (e *Engine) Rules(ctx context.Context) (*RulesAnswer, error) {
	doc, err := e.st.readRules(ctx)
	if err != nil {
		return nil, err
	}
	last := map[string]RuleStatus{}
	for _, s := range doc.Rules {
		last[s.Name] = s
	}
	rs := e.rules.Load()
	e.mu.Lock()
	holding := e.holding
	e.mu.Unlock()
	ans := &RulesAnswer{File: e.cfg.rulesFile, LoadedAt: *e.loadedAt.Load(), Every: Duration(e.cfg.every),
		Evaluator: doc.EvaluatedBy, EvaluatedAt: doc.Updated.UTC(), Holder: e.cfg.holder, Holding: holding, Rules: []RuleInfo{}}
	if p := e.reloadErr.Load(); p != nil {
		ans.ReloadError = *p
	}
	for _, r := range rs.Rules {
		ri := RuleInfo{Name: r.Name, View: r.View, Measure: r.Measure, Where: r.Where, GroupBy: r.GroupBy,
			Window: Duration(r.Window), Delay: Duration(r.Delay), For: Duration(r.For), Condition: r.condition(),
			Labels: r.Labels, Annotations: r.Annotations, Notify: r.Notify}
		if r.Notify == nil {
			ri.Notify = []string{}
		}
		if s, ok := last[r.Name]; ok {
			ri.LastEval, ri.TookMS, ri.Samples, ri.Hits, ri.LastError, ri.Warning = s.LastEval.UTC(), s.TookMS, s.Samples, s.Hits, s.LastError, s.Warning
		}
		ans.Rules = append(ans.Rules, ri)
	}
	return ans, nil
}

// Duration is a duration that JSON writes as Go does ("5m0s").
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// condition says the rule's condition in words.
func (r *Rule) condition() string {
	switch {
	case r.Threshold != nil && r.Threshold.Above:
		return fmt.Sprintf("above %g", r.Threshold.Value)
	case r.Threshold != nil:
		return fmt.Sprintf("below %g", r.Threshold.Value)
	case r.Baseline != nil:
		b := r.Baseline
		return fmt.Sprintf("%g deviations %s the median of the same window %d x %s before (at least %d)",
			b.Deviations, map[string]string{"below": "below", "above": "above", "both": "from"}[b.Direction], b.Days, b.Every, b.MinHistory)
	case r.NewPattern != nil:
		lv := r.NewPattern.Level
		if lv == "" {
			lv = "any level"
		}
		return fmt.Sprintf("a pattern unseen in the %s before, at %s, with at least %d lines", r.NewPattern.Lookback, lv, r.NewPattern.MinCount)
	}
	return ""
}
