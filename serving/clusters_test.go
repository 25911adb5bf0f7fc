package serving

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/loglambda/loglambda/internal/testkit"
	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// TestClusters checks /v1/clusters and the Clusters RPC on the scenario:
// the same answer over both, counts adding up to the range's events per
// bucket and in total, and bad arguments refused by both.
func TestClusters(t *testing.T) {
	sc := newScenario(t)
	cl := llv1.NewQueryServiceClient(startGRPC(t, sc.srv))
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		from, to time.Time
		k        int
		step     time.Duration
		exact    bool
	}{
		{"before the horizon", t10, horizon, 3, 15 * time.Minute, true},
		{"after the horizon", horizon, t13, 5, time.Hour, false},
		{"straddling", horizon.Add(-30 * time.Minute), horizon.Add(30 * time.Minute), 2, 10 * time.Minute, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h testkit.ClustersAnswer
			if code := get(t, sc.url, "/v1/clusters"+q(c.from, c.to, "k", fmt.Sprint(c.k), "step", c.step.String()), &h); code != 200 {
				t.Fatalf("HTTP status %d", code)
			}
			g, err := cl.Clusters(ctx, &llv1.ClustersRequest{From: ts(c.from), To: ts(c.to), K: int32(c.k), Step: durationpb.New(c.step)})
			if err != nil {
				t.Fatal(err)
			}
			// Batch before the horizon, speed after it; speed's stale panes
			// before the horizon are never read.
			pv := truthOf(sc.batch, c.from, minTime(c.to, horizon)).pv + truthOf(sc.speed, maxTime(c.from, horizon), c.to).pv
			if h.Events+h.Missing != pv || g.Events+g.Missing != pv {
				t.Errorf("events %d + missing %d (gRPC %d + %d), want pv %d", h.Events, h.Missing, g.Events, g.Missing, pv)
			}
			if h.K != c.k || len(g.Clusters) != c.k || h.Exact != c.exact || g.Exact != c.exact || h.MicroClusters != int(g.MicroClusters) {
				t.Errorf("k %d / %d clusters, exact %v / %v, micro %d / %d", h.K, len(g.Clusters), h.Exact, g.Exact, h.MicroClusters, g.MicroClusters)
			}
			for i, hc := range h.Clusters {
				gc := g.Clusters[i]
				if hc.Count != gc.Count || fmt.Sprint(hc.Series) != fmt.Sprint(gc.Series) || hc.Center["latency_ms"] != gc.Center["latency_ms"] {
					t.Errorf("cluster %d: HTTP %d %v, gRPC %d %v", i, hc.Count, hc.Series, gc.Count, gc.Series)
				}
			}
			for i, p := range h.Series {
				var n int64
				for _, v := range p.Counts {
					n += v
				}
				lo := c.from.Truncate(c.step).Add(time.Duration(i) * c.step)
				hi := lo.Add(c.step)
				lo, hi = maxTime(lo, c.from), minTime(hi, c.to)
				want := truthOf(sc.batch, lo, minTime(hi, horizon)).pv + truthOf(sc.speed, maxTime(lo, horizon), hi).pv
				if n+p.Outliers+p.Missing != want {
					t.Errorf("bucket %d: %d + %d outliers + %d missing, want %d", i, n, p.Outliers, p.Missing, want)
				}
			}
		})
	}
	for _, bad := range []*llv1.ClustersRequest{{K: -1}, {K: 51}, {Step: durationpb.New(7 * time.Second)}, {From: ts(t13), To: ts(horizon)}} {
		if _, err := cl.Clusters(ctx, bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v, want InvalidArgument", bad, err)
		}
	}
	for _, bad := range []string{"?k=0", "?k=51", "?step=7s", "?to=x"} {
		var e struct {
			Error string `json:"error"`
		}
		if code := get(t, sc.url, "/v1/clusters"+bad, &e); code != 400 || e.Error == "" {
			t.Errorf("%s: status %d error %q, want 400", bad, code, e.Error)
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
