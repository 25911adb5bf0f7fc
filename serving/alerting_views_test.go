package serving

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// TestAlertsClusterShare: a rule on the clusters view, the share of the
// smallest of the five macro-clusters below 5 %, over an hour of the
// demo's traffic into which a slow export (latency 30 s to 5 min, 100 MB
// to 10 GB, one request every 2 s) is injected from 09:30 to 09:34. It
// fires at the first evaluation after the injection starts, stays firing
// while injected requests are in its 5-minute window and resolves after;
// at every evaluation its state is what GET /v1/clusters answers for the
// window. Without injected requests it fires only where /v1/clusters
// itself shows a rare kind of the generator's own (its few huge
// downloads: latency under 30 s), which is what such a rule is for.
//
// The outlier count is the other cluster measure, but on this traffic it
// is no signal: the generator's tail makes 25 to 70 outliers per 5
// minutes, and a group of injected anomalies draws a k-means centre of
// its own and stops counting as outliers.
func TestAlertsClusterShare(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	hook := startHook(t)
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	evs, _ := genEvents(t, start, time.Hour, 30, 11)
	injectFrom, injectTo := start.Add(30*time.Minute), start.Add(34*time.Minute)
	var injected []time.Time
	r := rand.New(rand.NewPCG(5, 5))
	for at, i := injectFrom, 0; at.Before(injectTo); at, i = at.Add(2*time.Second), i+1 {
		lat := math.Pow(10, 4.5+r.Float64())
		size := int64(math.Pow(10, 8+2*r.Float64()))
		evs = append(evs, event.Event{Time: at.Add(time.Second), Host: "web-1", Method: "GET", Path: "/export",
			Status: 200, LatencyMS: lat, Bytes: size, Partition: int32(i % 4)})
		injected = append(injected, at.Add(time.Second))
	}
	slices.SortStableFunc(evs, func(a, b event.Event) int { return a.Time.Compare(b.Time) })

	const below = 0.05
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(`notifiers:
  - name: hook
    webhook: {url: %q}
rules:
  - name: RareKindOfRequest
    view: clusters
    measure: share
    where: {cluster: "4"}
    window: 5m
    threshold: {below: %g}
    annotations: {summary: "the smallest kind of request is {{ .Value }} of the traffic"}
    notify: [hook]
`, hook.srv.URL, below)), 0o644); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: start}
	s := alertServer(t, db, clk, path, "A")
	feed := newSpeedFeed(db, evs)
	feed.views = []string{views.ViewClusters}
	var wantFire, wantResolve, natural, withInjected int
	was := false
	for now := start.Add(20 * time.Minute); now.Before(start.Add(45 * time.Minute)); now = now.Add(30 * time.Second) {
		step(t, ctx, clk, feed, now, s)
		// The rule's window: five minutes to the end of now's pane.
		to := now.Truncate(time.Minute)
		if to.Before(now) {
			to = to.Add(time.Minute)
		}
		from := to.Add(-5 * time.Minute)
		var api clustersResp
		getJSONOf(t, s, "/v1/clusters"+q(from, to, "k", "5", "step", "5m"), &api)
		if len(api.Clusters) != 5 || api.Events == 0 {
			t.Fatalf("%s: /v1/clusters %+v", now.Format("15:04:05"), api)
		}
		small := api.Clusters[4]
		share := float64(small.Count) / float64(api.Events)
		in := 0
		for _, at := range injected {
			if !at.Before(from) && at.Before(now) {
				in++
			}
		}
		want := share < below
		switch {
		case in > 0 && !want:
			t.Errorf("%s: %d injected requests in the window, yet /v1/clusters' smallest share is %.4f", now.Format("15:04:05"), in, share)
		case in > 0:
			withInjected++
		case want && small.Center["latency_ms"] >= 30000:
			t.Errorf("%s: no injected request in the window, yet a cluster of %.4f at %v", now.Format("15:04:05"), share, small.Center)
		case want:
			natural++
		}
		if want && !was {
			wantFire++
		}
		if !want && was {
			wantResolve++
		}
		was = want
		as, err := s.Alerts().Alerts(ctx, start, now.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		firing := false
		for _, a := range as {
			if a.State == "firing" {
				firing = true
				if a.Labels["cluster"] != "4" {
					t.Errorf("alert labels %v", a.Labels)
				}
			}
		}
		if firing != want {
			t.Errorf("%s: firing %v, but /v1/clusters' smallest share is %.4f (%d injected in the window)", now.Format("15:04:05"), firing, share, in)
		}
	}
	t.Logf("firing at %d evaluations with injected requests in the window, %d on the generator's own rare kind", withInjected, natural)
	if withInjected == 0 {
		t.Error("the injection never reached the window")
	}
	if got := hook.byStatus(); got["firing"] != wantFire || got["resolved"] != wantResolve {
		t.Errorf("notifications %v, want %d firing and %d resolved", got, wantFire, wantResolve)
	}
}
