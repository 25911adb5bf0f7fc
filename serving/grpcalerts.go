package serving

import (
	"context"

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
