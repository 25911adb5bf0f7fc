package serving

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/alerts"
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
	r := rand.New(rand.NewPCG(5, 5))
	evs, injected := injectExports(evs, start.Add(30*time.Minute), start.Add(34*time.Minute), func(int, time.Time) (float64, int64, bool) {
		return math.Pow(10, 4.5+r.Float64()), int64(math.Pow(10, 8+2*r.Float64())), true
	})

	const below = 0.05
	// minInjected is how many injected requests a window needs before
	// they must be its smallest cluster: a minute of the injection.
	const minInjected = 30
	path := hookRules(t, hook, fmt.Sprintf(`  - name: RareKindOfRequest
    view: clusters
    measure: share
    where: {cluster: "4"}
    window: 5m
    threshold: {below: %g}
    annotations: {summary: "the smallest kind of request is {{ .Value }} of the traffic"}
    notify: [hook]
`, below))
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
		var api testkit.ClustersAnswer
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
		case in > 0 && in < minInjected && !want:
			// 15 of ~9,000 requests: k-means (within 3 % of
			// scikit-learn's sum of squares) may rightly spend its five
			// centres on the generator's own kinds first.
			t.Logf("%s: %d injected requests in the window, not yet a cluster of their own (smallest share %.4f)", now.Format("15:04:05"), in, share)
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

// TestAlertsNewPatternAmongMany: a new ERROR pattern of 12 lines in a
// 10-minute window that holds 2,000 older-looking INFO patterns of 15
// lines each. Merged into one state the window keeps its 1,000 most
// frequent patterns (GET /v1/patterns does not list the new one: it is in
// "(other)"), but each minute's pane holds it, and the rule fires. Then a
// pane of 1,001 patterns of 12 lines folds a new ERROR pattern of 10 lines
// itself: the rule cannot see it, and /v1/rules says so.
func TestAlertsNewPatternAmongMany(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	pa := newPatternAlerts(t, start)
	f := pa.feed
	// The hour before: the usual ERROR pattern, known to the lookback.
	for i := 0; i < 60; i++ {
		f.add(start.Add(-time.Hour+time.Duration(i)*time.Minute), "ERROR", deadlockMsg(i))
	}
	// 10:00 to 10:10: 200 INFO patterns of 15 lines a minute, 2,000 in
	// all, and the new ERROR pattern once a minute, twice at 10:03 and
	// 10:07: 12 lines.
	newLines := map[time.Time]int{}
	for m := 0; m < 10; m++ {
		minute := start.Add(time.Duration(m) * time.Minute)
		for k := 0; k < 200; k++ {
			for j := 0; j < 15; j++ {
				f.add(minute.Add(time.Duration(j)*time.Second), "INFO", wordsMsg(m*200+k))
			}
		}
		for j := 0; j < 1+boolInt(m == 3 || m == 7); j++ {
			at := minute.Add(time.Duration(30+j) * time.Second)
			f.add(at, "ERROR", diskFullMsg(m*10+j, m))
			newLines[at]++
		}
	}
	total := 0
	for _, n := range newLines {
		total += n
	}
	if total != 12 {
		t.Fatalf("%d new lines, want 12", total)
	}
	// 10:30: 1,001 INFO patterns of 12 lines and a second new ERROR
	// pattern of 10 lines in one pane: the pane folds the rarest.
	foldAt := start.Add(30 * time.Minute)
	for k := 0; k < 1001; k++ {
		for j := 0; j < 12; j++ {
			f.add(foldAt.Add(time.Duration(j)*time.Second), "INFO", wordsMsg(100000+k))
		}
	}
	for j := 0; j < 10; j++ {
		f.add(foldAt.Add(time.Duration(20+j)*time.Second), "ERROR", fmt.Sprintf("checkpoint request failed on segment %d", j))
	}
	s, _ := pa.serve(t, newErrorPatternRule)
	var firedAt time.Time
	for now := start.Add(time.Minute); now.Before(start.Add(42 * time.Minute)); now = now.Add(time.Minute) {
		step(t, ctx, pa.clk, nil, now, s)
		// The window: the ten minutes before now (a whole minute).
		to := now
		from := to.Add(-10 * time.Minute)
		// New while the lookback (an hour) before the window has none.
		in, before := 0, 0
		for at, n := range newLines {
			if !at.Before(from) && at.Before(to) {
				in += n
			}
			if at.Before(from) {
				before += n
			}
		}
		if before > 0 {
			in = 0
		}
		var rs alerts.RulesAnswer
		getJSONOf(t, s, "/v1/rules", &rs)
		r := rs.Rules[0]
		if r.LastError != "" || (r.Hits == 1) != (in >= 10) {
			t.Errorf("%s: %d new lines in the window (%d before it); rule %+v", now.Format("15:04"), in, before, r)
		}
		if in >= 10 && firedAt.IsZero() {
			firedAt = now
			var pr struct {
				Patterns []struct {
					Template string `json:"template"`
				} `json:"patterns"`
			}
			getJSONOf(t, s, "/v1/patterns"+q(from, to, "k", "1000", "level", "ERROR", "step", "10m"), &pr)
			for _, p := range pr.Patterns {
				if strings.Contains(p.Template, "No space left") {
					t.Errorf("/v1/patterns lists the new pattern; the test no longer shows a merged window folding it")
				}
			}
			t.Logf("/v1/patterns at level ERROR over %s..%s: %+v", from.Format("15:04"), to.Format("15:04"), pr.Patterns)
		}
		folded := !foldAt.Before(from) && foldAt.Before(to)
		if folded != (r.Warning != "") {
			t.Errorf("%s: the pane of %s in the window %v, warning %q", now.Format("15:04"), foldAt.Format("15:04"), folded, r.Warning)
		}
		if folded && now.Equal(foldAt.Add(time.Minute)) {
			t.Logf("warning: %s", r.Warning)
		}
	}
	got := pa.hook.messages()
	if len(got) != 2 || got[0].Status != "firing" || got[1].Status != "resolved" {
		t.Fatalf("%d notifications %+v, want one firing and its resolution", len(got), got)
	}
	if a := got[0].Alerts[0]; !strings.Contains(a.Annotations["summary"], "No space left on device") || !a.StartsAt.Equal(firedAt) {
		t.Errorf("fired %+v, want the new pattern at %s", a, firedAt)
	}
}
