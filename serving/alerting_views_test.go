package serving

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
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

// patternFeed adds events to minute panes as speed mines them.
type patternFeed struct {
	tracker *patterns.Tracker
	panes   map[time.Time]*views.Pane
}

func newPatternFeed() *patternFeed {
	return &patternFeed{tracker: patterns.NewTracker(views.PatternMinerOptions), panes: map[time.Time]*views.Pane{}}
}

func (f *patternFeed) add(at time.Time, level, msg string) {
	ev := event.Event{Time: at, Instance: "db-1", Level: level, Msg: msg}
	p := f.panes[at.Truncate(time.Minute)]
	if p == nil {
		p = views.NewPane(0)
		f.panes[at.Truncate(time.Minute)] = p
	}
	p.Add(&ev)
	m := views.PatternMessage(&ev, nil)
	id, tmpl, absorbed := f.tracker.Add(m)
	for _, a := range absorbed {
		p.Patterns.Absorb(a)
	}
	p.Patterns.Add(id, tmpl, &ev, m)
}

// write writes the panes as speed documents of partition 0.
func (f *patternFeed) write(t *testing.T, db *mongo.Database, updated time.Time) {
	t.Helper()
	docs := map[string][]views.Doc{}
	for p, st := range f.panes {
		for _, view := range []string{views.ViewLevels, views.ViewPatterns} {
			d := makeDoc(t, st, view, p, 0, updated)
			d.Summary = nil
			docs[view] = append(docs[view], d)
		}
	}
	for view, ds := range docs {
		replaceDocs(t, db.Collection(views.SpeedCollection(view)), ds)
	}
}

// wordsMsg is a message of five made-up words, unlike any other index's:
// the miner gives each its own pattern.
func wordsMsg(i int) string {
	var b strings.Builder
	x := uint64(i)*0x9E3779B97F4A7C15 + 1
	for w := 0; w < 5; w++ {
		if w > 0 {
			b.WriteByte(' ')
		}
		for c := 0; c < 7; c++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b.WriteByte(byte('a' + x%26))
		}
	}
	return b.String()
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
	db := testDB(t)
	hook := startHook(t)
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	f := newPatternFeed()
	// The hour before: the usual ERROR pattern, known to the lookback.
	for i := 0; i < 60; i++ {
		f.add(start.Add(-time.Hour+time.Duration(i)*time.Minute), "ERROR", fmt.Sprintf("deadlock detected: process %d waits for ShareLock on transaction %d", i, i*7))
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
			f.add(at, "ERROR", fmt.Sprintf("could not write block %d of relation base/%d: No space left on device", m*10+j, m))
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
	f.write(t, db, start)

	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(`notifiers:
  - name: hook
    webhook: {url: %q}
rules:
  - name: NewErrorPattern
    view: patterns
    window: 10m
    new_pattern: {level: ERROR, min_count: 10, lookback: 1h}
    annotations: {summary: "new: {{ .Template }}"}
    notify: [hook]
`, hook.srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: start}
	s := alertServer(t, db, clk, path, "A")
	var firedAt time.Time
	for now := start.Add(time.Minute); now.Before(start.Add(42 * time.Minute)); now = now.Add(time.Minute) {
		step(t, ctx, clk, nil, now, s)
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
	got := hook.messages()
	if len(got) != 2 || got[0].Status != "firing" || got[1].Status != "resolved" {
		t.Fatalf("%d notifications %+v, want one firing and its resolution", len(got), got)
	}
	if a := got[0].Alerts[0]; !strings.Contains(a.Annotations["summary"], "No space left on device") || !a.StartsAt.Equal(firedAt) {
		t.Errorf("fired %+v, want the new pattern at %s", a, firedAt)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestAlertsGRPC: the Alerts and Rules RPCs answer what GET /v1/alerts
// and GET /v1/rules answer: the same alerts, the same rules with their
// last evaluation, error and warning, and a refused reload.
func TestAlertsGRPC(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	hook := startHook(t)
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	f := newPatternFeed()
	// The deadlocks are old news: the ten minutes before had them.
	for i := -60; i < 30; i++ {
		f.add(start.Add(time.Duration(i)*10*time.Second), "ERROR", fmt.Sprintf("deadlock detected: process %d waits for ShareLock on transaction %d", i, i*7))
	}
	// A pane of 1,001 patterns of 12 lines folds a new pattern of 10.
	for k := 0; k < 1001; k++ {
		for j := 0; j < 12; j++ {
			f.add(start.Add(2*time.Minute+time.Duration(j)*time.Second), "INFO", wordsMsg(k))
		}
	}
	for j := 0; j < 10; j++ {
		f.add(start.Add(2*time.Minute+time.Duration(20+j)*time.Second), "ERROR", fmt.Sprintf("checkpoint request failed on segment %d", j))
	}
	f.write(t, db, start)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	good := fmt.Sprintf(`notifiers:
  - name: hook
    webhook: {url: %q}
rules:
  - name: Errors
    view: levels
    where: {level: ERROR}
    group_by: [instance]
    window: 5m
    for: 1m
    threshold: {above: 10}
    labels: {severity: page}
    notify: [hook]
  - name: NewErrorPattern
    view: patterns
    window: 10m
    new_pattern: {level: ERROR, min_count: 10, lookback: 1h}
  - name: NoTraffic
    view: clusters
    measure: share
    window: 5m
    threshold: {above: 2}
`, hook.srv.URL)
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: start}
	s := alertServer(t, db, clk, path, "A")
	cl := llv1.NewQueryServiceClient(startGRPC(t, s))
	for now := start.Add(time.Minute); !now.After(start.Add(5 * time.Minute)); now = now.Add(time.Minute) {
		step(t, ctx, clk, nil, now, s)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(good, "for: 1m", "for: soon", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Alerts().Reload(); err == nil {
		t.Fatal("a broken rule file was loaded")
	}

	var h alerts.RulesAnswer
	getJSONOf(t, s, "/v1/rules", &h)
	g, err := cl.Rules(ctx, &llv1.RulesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Rules) != 3 || len(g.Rules) != 3 {
		t.Fatalf("rules: HTTP %d, gRPC %d, want 3", len(h.Rules), len(g.Rules))
	}
	if g.File != path || g.File != h.File || g.Every.AsDuration() != time.Duration(h.Every) || g.Holder != "A" || !g.Holding ||
		g.Evaluator != h.Evaluator || !g.EvaluatedAt.AsTime().Equal(h.EvaluatedAt) || !g.LoadedAt.AsTime().Equal(h.LoadedAt) ||
		!strings.Contains(g.ReloadError, `rule "Errors"`) || !strings.Contains(g.ReloadError, "field for") || g.ReloadError != h.ReloadError {
		t.Errorf("gRPC %+v\nHTTP %+v", g, h)
	}
	for i, hr := range h.Rules {
		gr := g.Rules[i]
		if gr.Name != hr.Name || gr.View != hr.View || gr.Measure != hr.Measure || gr.Condition != hr.Condition ||
			gr.Window.AsDuration() != time.Duration(hr.Window) || gr.For.AsDuration() != time.Duration(hr.For) ||
			!gr.LastEval.AsTime().Equal(hr.LastEval) || int(gr.Samples) != hr.Samples || int(gr.Hits) != hr.Hits ||
			gr.LastError != hr.LastError || gr.Warning != hr.Warning || fmt.Sprint(gr.Labels) != fmt.Sprint(hr.Labels) ||
			fmt.Sprint(gr.Notify) != fmt.Sprint(hr.Notify) || fmt.Sprint(gr.Where) != fmt.Sprint(hr.Where) {
			t.Errorf("rule %d: gRPC %+v\nHTTP %+v", i, gr, hr)
		}
	}
	byName := map[string]*llv1.Rule{}
	for _, r := range g.Rules {
		byName[r.Name] = r
	}
	if r := byName["Errors"]; r.Hits != 1 || r.For.AsDuration() != time.Minute || !r.LastEval.AsTime().Equal(start.Add(5*time.Minute)) {
		t.Errorf("Errors: %+v", r)
	}
	if r := byName["NewErrorPattern"]; r.Hits != 0 || !strings.Contains(r.Warning, "folded into (other)") {
		t.Errorf("NewErrorPattern: %+v", r)
	}
	if r := byName["NoTraffic"]; r.Hits != 0 || r.LastError != "" {
		t.Errorf("NoTraffic: %+v", r)
	}

	var ha struct {
		Alerts []alerts.Alert `json:"alerts"`
	}
	getJSONOf(t, s, "/v1/alerts?from="+start.Format(time.RFC3339), &ha)
	ga, err := cl.Alerts(ctx, &llv1.AlertsRequest{From: ts(start)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ha.Alerts) != 1 || len(ga.Alerts) != 1 {
		t.Fatalf("alerts: HTTP %+v, gRPC %+v; want the one of Errors", ha.Alerts, ga.Alerts)
	}
	a, b := ha.Alerts[0], ga.Alerts[0]
	if b.Id != a.ID || b.Rule != "Errors" || b.State != "firing" || b.Value != a.Value || b.Labels["instance"] != "db-1" ||
		!b.FiredAt.AsTime().Equal(a.FiredAt) || len(b.Deliveries) != 1 || b.Deliveries[0].State != "sent" || b.Deliveries[0].Notifier != "hook" {
		t.Errorf("alert: gRPC %+v\nHTTP %+v", b, a)
	}
	if got := hook.byStatus(); got["firing"] != 1 {
		t.Errorf("webhook: %v", got)
	}
}
