package serving

import (
	"context"
	"net/url"
	"strconv"
	"time"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
	"github.com/loglambda/loglambda/schemas/views"
)

// PathsQuery asks for the K busiest URL paths of a range. The zero value
// asks for the top 10 of the last hour.
type PathsQuery struct {
	Range
	// K is the number of paths, 1 up to the server's limit (1000); 0
	// means 10.
	K int
}

// Quantiles are a sketch's figures: values at ranks q·(Count-1), each
// within views.SketchAlpha of the true value at that rank.
type Quantiles struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// PathFigures is one path of a PathsAnswer.
type PathFigures struct {
	Path      string    `json:"path"`
	Count     int64     `json:"count"`
	BytesSum  int64     `json:"bytes_sum"`
	Bytes     Quantiles `json:"bytes"`
	LatencyMS Quantiles `json:"latency_ms"`
}

// PathsAnswer is the answer to a PathsQuery, the same over HTTP and gRPC.
type PathsAnswer struct {
	From, To time.Time
	// Paths are the busiest first.
	Paths []PathFigures
	// TotalPaths is how many paths the range holds.
	TotalPaths int
	// BatchHorizon is where batch ended and speed began.
	BatchHorizon time.Time
	// Exact is set when every pane came from batch: counts and sums are
	// exact, quantiles within views.SketchAlpha.
	Exact bool
}

// Paths merges the paths view over the range and returns its busiest
// paths.
func (s *Server) Paths(q PathsQuery) (*PathsAnswer, error) {
	sp, err := s.span(q.Range)
	if err != nil {
		return nil, err
	}
	k, err := s.checkK(q.K)
	if err != nil {
		return nil, err
	}
	sn := s.snap.Load()
	acc := views.NewMergePaths()
	for _, st := range sn.statesIn(nil, sp.from, sp.to, s.paneSeconds()) {
		acc.Merge(st.pane.Paths)
	}
	stats := acc.Stats()
	a := &PathsAnswer{From: sp.fromTime(), To: sp.toTime(), TotalPaths: len(stats),
		BatchHorizon: sn.horizon, Exact: sn.exact(sp), Paths: []PathFigures{}}
	for _, st := range stats[:min(k, len(stats))] {
		a.Paths = append(a.Paths, PathFigures{Path: st.Path, Count: st.Count, BytesSum: st.BytesSum,
			Bytes: quantiles(&st.Bytes), LatencyMS: quantiles(&st.Latency)})
	}
	return a, nil
}

func quantiles(k *views.Sketch) Quantiles {
	return Quantiles{Count: k.Count(), P50: k.Quantile(0.5), P90: k.Quantile(0.9), P99: k.Quantile(0.99), Max: k.Quantile(1)}
}

// HTTP: ?from, ?to and ?k become a PathsQuery, the answer the JSON body of
// GET /v1/paths.

func parsePathsQuery(q url.Values) (PathsQuery, error) {
	r, err := parseRange(q)
	if err != nil {
		return PathsQuery{}, err
	}
	pq := PathsQuery{Range: r}
	if v := q.Get("k"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k <= 0 {
			return PathsQuery{}, badParam("k", v, "not a positive integer")
		}
		pq.K = k
	}
	return pq, nil
}

type pathsBody struct {
	From          string        `json:"from"`
	To            string        `json:"to"`
	Paths         []PathFigures `json:"paths"`
	TotalPaths    int           `json:"total_paths"`
	RelativeError float64       `json:"relative_error"`
	BatchHorizon  *string       `json:"batch_horizon"`
	Exact         bool          `json:"exact"`
}

func newPathsBody(a *PathsAnswer) pathsBody {
	return pathsBody{From: fmtTime(a.From), To: fmtTime(a.To), Paths: a.Paths, TotalPaths: a.TotalPaths,
		RelativeError: views.SketchAlpha, BatchHorizon: jsonTime(a.BatchHorizon), Exact: a.Exact}
}

// gRPC: PathsRequest to PathsQuery, PathsAnswer to PathsResponse.

func pathsResponse(a *PathsAnswer) *llv1.PathsResponse {
	q := func(x Quantiles) *llv1.Quantiles {
		return &llv1.Quantiles{Count: x.Count, P50: x.P50, P90: x.P90, P99: x.P99, Max: x.Max}
	}
	resp := &llv1.PathsResponse{From: timestamp(a.From), To: timestamp(a.To), TotalPaths: int64(a.TotalPaths),
		RelativeError: views.SketchAlpha, BatchHorizon: timestamp(a.BatchHorizon), Exact: a.Exact}
	for _, p := range a.Paths {
		resp.Paths = append(resp.Paths, &llv1.PathStat{Path: p.Path, Count: p.Count, BytesSum: p.BytesSum,
			Bytes: q(p.Bytes), LatencyMs: q(p.LatencyMS)})
	}
	return resp
}

func (q queryService) Paths(ctx context.Context, req *llv1.PathsRequest) (*llv1.PathsResponse, error) {
	r, err := rangeOf(req.GetFrom(), req.GetTo())
	return respond(ctx, PathsQuery{Range: r, K: int(req.GetK())}, err, noCtx(q.s.Paths), pathsResponse)
}
