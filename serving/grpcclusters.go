package serving

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// The gRPC side of the clusters view: ClustersRequest to ClustersQuery,
// ClustersAnswer to ClustersResponse.

func clustersResponse(a *ClustersAnswer) *llv1.ClustersResponse {
	resp := &llv1.ClustersResponse{
		From: timestamp(a.From), To: timestamp(a.To), Step: durationpb.New(a.Step), K: int32(a.K),
		Fields: a.Fields, Events: a.Events, Outliers: a.Outliers, Missing: a.Missing,
		MicroClusters: int32(a.MicroClusters), BatchHorizon: timestamp(a.BatchHorizon), Exact: a.Exact,
	}
	byField := a.byField
	for _, c := range a.Clusters {
		resp.Clusters = append(resp.Clusters, &llv1.MacroCluster{Count: c.Count, Share: c.Share,
			Mean: byField(c.Mean), Stddev: byField(c.Stddev), Center: byField(c.Center),
			Min: byField(c.Min), Max: byField(c.Max), Series: c.Series})
	}
	for _, p := range a.Series {
		resp.Series = append(resp.Series, &llv1.ClustersPoint{T: timestamp(p.T), Counts: p.Counts, Outliers: p.Outliers, Missing: p.Missing})
	}
	return resp
}

func (q queryService) Clusters(ctx context.Context, req *llv1.ClustersRequest) (*llv1.ClustersResponse, error) {
	r, step, err := rangeStepOf(req)
	return respondCached(ctx, &q.s.wires, ClustersQuery{Range: r, Step: step, K: int(req.GetK())}, err, noCtxEntry(q.s.clusters), clustersResponse)
}
