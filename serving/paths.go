package serving

import (
	"context"
	"net/url"
	"time"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/alerts"
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
	a, _, err := s.paths(q)
	return a, err
}

// paths is Paths with the cache entry holding the answer.
func (s *Server) paths(q PathsQuery) (*PathsAnswer, *answerEntry, error) {
	sp, err := s.span(q.Range)
	if err != nil {
		return nil, nil, err
	}
	k, err := s.checkK(q.K)
	if err != nil {
		return nil, nil, err
	}
	key := answerKey{view: "paths", from: sp.from, to: sp.to, k: k}
	return cachedAnswer(s, key, sp.from, sp.to, func(sn *snapshot) (*PathsAnswer, error) {
		return pathsOf(sn, sp, s.paneSeconds(), k), nil
	})
}

// pathsOf computes the answer over sn: from day, hour and quarter blocks
// (their counts prepared, views.TopPathsCounted) and panes at the edges.
func pathsOf(sn *snapshot, sp span, pane int64, k int) *PathsAnswer {
	states := sn.quarterStatesIn(nil, sp.from, sp.to, pane)
	ps := make([]*views.Paths, len(states))
	counts := make([]*views.PathCounts, len(states))
	for i, st := range states {
		ps[i], counts[i] = st.of(views.ViewPaths).Paths, st.paths
	}
	top, total := views.TopPathsCounted(ps, counts, k)
	a := &PathsAnswer{From: sp.fromTime(), To: sp.toTime(), TotalPaths: total,
		BatchHorizon: sn.horizon, Exact: sn.exact(sp), Paths: []PathFigures{}}
	for _, st := range top {
		a.Paths = append(a.Paths, PathFigures{Path: st.Path, Count: st.Count, BytesSum: st.BytesSum,
			Bytes: quantiles(&st.Bytes), LatencyMS: quantiles(&st.Latency)})
	}
	return a
}

// pathStats merges the paths view of the range: every path, busiest
// first.
func pathStats(sn *snapshot, sp span, pane int64) []*views.PathStat {
	acc := views.NewMergePaths()
	for _, st := range sn.statesIn(nil, sp.from, sp.to, pane) {
		acc.Merge(st.of(views.ViewPaths).Paths)
	}
	return acc.Stats()
}

// pathsRules: rules measure a path's requests, bytes (their sum) and
// latency quantiles; over several paths (no group_by path) a quantile is
// the worst path's.
func pathsRules(s *Server) alerts.ViewRules {
	measures := map[string]func(st *views.PathStat) float64{
		"requests":    func(st *views.PathStat) float64 { return float64(st.Count) },
		"bytes":       func(st *views.PathStat) float64 { return float64(st.BytesSum) },
		"latency_p50": func(st *views.PathStat) float64 { return st.Latency.Quantile(0.5) },
		"latency_p90": func(st *views.PathStat) float64 { return st.Latency.Quantile(0.9) },
		"latency_p99": func(st *views.PathStat) float64 { return st.Latency.Quantile(0.99) },
		"latency_max": func(st *views.PathStat) float64 { return st.Latency.Quantile(1) },
	}
	return alerts.ViewRules{
		Measures: []string{"requests", "bytes", "latency_p50", "latency_p90", "latency_p99", "latency_max"},
		Where:    []string{"path"}, GroupBy: []string{"path"},
		Worst: []string{"latency_p50", "latency_p90", "latency_p99", "latency_max"},
		Groups: func(_ context.Context, measure string, from, to time.Time) ([]alerts.Sample, error) {
			sp, err := s.span(Range{From: from, To: to})
			if err != nil {
				return nil, err
			}
			f := measures[measure]
			var out []alerts.Sample
			for _, st := range pathStats(s.snap.Load(), sp, s.paneSeconds()) {
				if st.Latency.Count() == 0 && measure != "requests" && measure != "bytes" {
					continue // no latency: no quantile to alert on
				}
				out = append(out, alerts.Sample{Labels: map[string]string{"path": st.Path}, Value: f(st)})
			}
			return out, nil
		},
	}
}

// pathsPanel is the paths view's table on the dashboard.
var pathsPanel = &panel{
	Title: "Paths: latency and bytes", Caption: "The busiest URL paths of the range with latency and size quantiles",
	Rows: "paths", Total: "total_paths", TotalLabel: "paths", K: 15, Empty: "No requests with a path in this range.",
	Columns: []column{
		{Label: "Path", Field: "path", Format: "text", Attr: "path"},
		{Label: "Requests", Field: "count", Format: "int", Attr: "count"},
		{Label: "Latency p50", Field: "latency_ms.p50", Format: "ms", Attr: "latency-p50", Unless: "latency_ms.count"},
		{Label: "p90", Field: "latency_ms.p90", Format: "ms", Unless: "latency_ms.count"},
		{Label: "p99", Field: "latency_ms.p99", Format: "ms", Attr: "latency-p99", Unless: "latency_ms.count"},
		{Label: "Bytes p50", Field: "bytes.p50", Format: "bytes", Attr: "bytes-p50"},
		{Label: "p99", Field: "bytes.p99", Format: "bytes"},
		{Label: "Bytes total", Field: "bytes_sum", Format: "bytes", Attr: "bytes-sum"},
	},
}

func quantiles(k *views.Sketch) Quantiles {
	return Quantiles{Count: k.Count(), P50: k.Quantile(0.5), P90: k.Quantile(0.9), P99: k.Quantile(0.99), Max: k.Quantile(1)}
}

// HTTP: ?from, ?to and ?k become a PathsQuery, the answer the JSON body of
// GET /v1/paths.

func parsePathsQuery(q url.Values) (PathsQuery, error) {
	hq, err := parseHotQuery(q) // from, to and k, as for /v1/hot
	return PathsQuery{Range: hq.Range, K: hq.K}, err
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
	return respondCached(ctx, &q.s.wires, PathsQuery{Range: r, K: int(req.GetK())}, err, noCtxEntry(q.s.paths), pathsResponse)
}
