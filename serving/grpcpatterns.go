package serving

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// Patterns is the gRPC face of (*Server).Patterns, as GET /v1/patterns.
func (q queryService) Patterns(ctx context.Context, req *llv1.PatternsRequest) (*llv1.PatternsResponse, error) {
	r, step, err := rangeStepOf(req)
	pq := PatternsQuery{Range: r, K: int(req.GetK()), Step: step, Level: req.GetLevel(), Instance: req.GetInstance()}
	return respondCached(ctx, &q.s.wires, pq, err, noCtxEntry(q.s.patterns), patternsResponse)
}

func patternsResponse(a *PatternsAnswer) *llv1.PatternsResponse {
	resp := &llv1.PatternsResponse{
		From: timestamp(a.From), To: timestamp(a.To), Step: durationpb.New(a.Step),
		Level: a.Level, Instance: a.Instance,
		Steps: make([]*timestamppb.Timestamp, len(a.Steps)),
		Total: a.Total, PreviousTotal: a.PreviousTotal,
		Patterns: make([]*llv1.PatternCount, len(a.Patterns)), Gone: make([]*llv1.PatternCount, len(a.Gone)),
		BatchHorizon: timestamp(a.BatchHorizon), Exact: a.Exact,
	}
	for i, t := range a.Steps {
		resp.Steps[i] = timestamp(t)
	}
	pc := func(p PatternCount) *llv1.PatternCount {
		return &llv1.PatternCount{
			Pattern: p.ID.String(), Template: p.Template, Count: p.Count, Share: p.Share,
			Previous: p.Previous, ChangePct: p.ChangePct, New: p.New, Gone: p.Gone,
			FirstSeen: timestamp(p.FirstSeen), LastSeen: timestamp(p.LastSeen),
			Example: p.Example, ExamplePartition: p.ExamplePartition, ExampleOffset: p.ExampleOffset,
			Series: p.Series,
		}
	}
	for i, p := range a.Patterns {
		resp.Patterns[i] = pc(p)
	}
	for i, p := range a.Gone {
		resp.Gone[i] = pc(p)
	}
	return resp
}
