package serving

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// The gRPC side of the levels view: LevelsRequest to LevelsQuery,
// LevelsAnswer to LevelsResponse.

func levelsResponse(a *LevelsAnswer) *llv1.LevelsResponse {
	resp := &llv1.LevelsResponse{
		From:         timestamp(a.From),
		To:           timestamp(a.To),
		Step:         durationpb.New(a.Step),
		Instance:     a.Instance,
		Series:       make([]*llv1.LevelsPoint, len(a.Series)),
		Total:        make(map[string]*llv1.LevelCounts, len(a.Total)),
		BatchHorizon: timestamp(a.BatchHorizon),
		Exact:        a.Exact,
	}
	for i, p := range a.Series {
		resp.Series[i] = &llv1.LevelsPoint{T: timestamp(p.T), Levels: p.Levels}
	}
	for inst, per := range a.Total {
		resp.Total[inst] = &llv1.LevelCounts{Levels: per}
	}
	return resp
}

func (q queryService) Levels(ctx context.Context, req *llv1.LevelsRequest) (*llv1.LevelsResponse, error) {
	r, step, err := rangeStepOf(req)
	return respondCached(ctx, &q.s.wires, LevelsQuery{Range: r, Step: step, Instance: req.GetInstance()}, err, noCtxEntry(q.s.levels), levelsResponse)
}
