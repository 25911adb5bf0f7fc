package serving

import (
	"context"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// The gRPC side of the hot view: HotRequest to HotQuery, HotAnswer to
// HotResponse.

func hotResponse(a *HotAnswer) *llv1.HotResponse {
	resp := &llv1.HotResponse{
		From:         timestamp(a.From),
		To:           timestamp(a.To),
		Terms:        make([]*llv1.TermCount, len(a.Terms)),
		ErrorBound:   a.ErrorBound,
		BatchHorizon: timestamp(a.BatchHorizon),
		Exact:        a.Exact,
	}
	for i, t := range a.Terms {
		resp.Terms[i] = &llv1.TermCount{Term: t.Term, Count: t.Count, Err: t.Err}
	}
	return resp
}

func (q queryService) Hot(ctx context.Context, req *llv1.HotRequest) (*llv1.HotResponse, error) {
	r, err := rangeOf(req.GetFrom(), req.GetTo())
	return respondCached(ctx, &q.s.wires, HotQuery{Range: r, K: int(req.GetK())}, err, noCtxEntry(q.s.hot), hotResponse)
}
