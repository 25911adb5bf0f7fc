package serving

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// The gRPC side of the traffic view: TrafficRequest to TrafficQuery,
// TrafficAnswer to TrafficResponse.

func trafficResponse(a *TrafficAnswer) *llv1.TrafficResponse {
	resp := &llv1.TrafficResponse{
		From:         timestamp(a.From),
		To:           timestamp(a.To),
		Step:         durationpb.New(a.Step),
		Series:       make([]*llv1.TrafficPoint, len(a.Series)),
		Total:        &llv1.TrafficTotal{Pv: a.Total.PV, Uv: a.Total.UV, Ips: a.Total.IPs},
		BatchHorizon: timestamp(a.BatchHorizon),
		Exact:        a.Exact,
	}
	for i, p := range a.Series {
		resp.Series[i] = &llv1.TrafficPoint{T: timestamp(p.T), Pv: p.PV, Uv: p.UV, Ips: p.IPs}
	}
	return resp
}

func (q queryService) Traffic(ctx context.Context, req *llv1.TrafficRequest) (*llv1.TrafficResponse, error) {
	r, step, err := rangeStepOf(req)
	return respondCached(ctx, &q.s.wires, TrafficQuery{Range: r, Step: step}, err, q.s.traffic, trafficResponse)
}
