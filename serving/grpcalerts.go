package serving

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/loglambda/loglambda/serving/alerts"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// Alerts answers the Alerts RPC from the same query as GET /v1/alerts.
func (q queryService) Alerts(ctx context.Context, req *llv1.AlertsRequest) (*llv1.AlertsResponse, error) {
	r, err := rangeOf(req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, grpcError(err)
	}
	ans, err := q.s.QueryAlerts(ctx, AlertsQuery{Range: r})
	if err != nil {
		return nil, grpcError(err)
	}
	resp := &llv1.AlertsResponse{From: timestamp(ans.From), To: timestamp(ans.To), Alerts: make([]*llv1.Alert, len(ans.Alerts))}
	for i, a := range ans.Alerts {
		m := &llv1.Alert{
			Id: a.ID, Rule: a.Rule, Fingerprint: a.Fingerprint, Labels: a.Labels, Annotations: a.Annotations,
			State: a.State, Value: a.Value, ActiveSince: timestamp(a.ActiveSince), FiredAt: timestamp(a.FiredAt),
			ResolvedAt: timestamp(a.ResolvedAt), Deliveries: make([]*llv1.AlertDelivery, len(a.Deliveries)),
		}
		for j, d := range a.Deliveries {
			m.Deliveries[j] = &llv1.AlertDelivery{Notifier: d.Notifier, Status: d.Status, State: d.State,
				Attempts: int32(d.Attempts), NextAt: timestamp(d.NextAt), SentAt: timestamp(d.SentAt), LastError: d.LastError}
		}
		resp.Alerts[i] = m
	}
	return resp, nil
}

// Rules answers the Rules RPC from the same query as GET /v1/rules.
func (q queryService) Rules(ctx context.Context, _ *llv1.RulesRequest) (*llv1.RulesResponse, error) {
	ans, err := q.s.QueryRules(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	dur := func(d alerts.Duration) *durationpb.Duration { return durationpb.New(time.Duration(d)) }
	resp := &llv1.RulesResponse{File: ans.File, LoadedAt: timestamp(ans.LoadedAt), ReloadError: ans.ReloadError,
		Every: dur(ans.Every), Evaluator: ans.Evaluator, EvaluatedAt: timestamp(ans.EvaluatedAt), Holder: ans.Holder,
		Holding: ans.Holding, Rules: make([]*llv1.Rule, len(ans.Rules))}
	for i, r := range ans.Rules {
		resp.Rules[i] = &llv1.Rule{Name: r.Name, View: r.View, Measure: r.Measure, Where: r.Where, GroupBy: r.GroupBy,
			Window: dur(r.Window), Delay: dur(r.Delay), For: dur(r.For), Condition: r.Condition, Labels: r.Labels,
			Annotations: r.Annotations, Notify: r.Notify, LastEval: timestamp(r.LastEval), TookMs: r.TookMS,
			Samples: int32(r.Samples), Hits: int32(r.Hits), LastError: r.LastError, Warning: r.Warning}
	}
	return resp, nil
}
