package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	demogen "github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/alerts"
)

// demoRulesFor is the demo's rule file (internal/gen) with its notifiers
// pointed at the test's webhook receiver and SMTP server (STARTTLS and
// authentication, which the demo's plain local server does not need).
func demoRulesFor(t *testing.T, hook *hookSink, smtp *smtpSink) string {
	t.Helper()
	s := string(demogen.DemoRules)
	for old, repl := range map[string]string{
		"${LOGLAMBDA_DEMO_WEBHOOK_URL:-http://127.0.0.1:9095/alerts}": hook.srv.URL + "/alerts",
		"      smtp: ${LOGLAMBDA_DEMO_SMTP:-127.0.0.1:8025}\n      starttls: false      # aiosmtpd -n speaks plain SMTP; keep true for a real server\n": fmt.Sprintf(
			"      smtp: %s\n      username: %s\n      password: %s\n      ca_file: %s\n", smtp.addr, smtp.user, smtp.pass, smtp.caFile),
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("demo rule file no longer contains %q", old)
		}
		s = strings.ReplaceAll(s, old, repl)
	}
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// alertServer is a server with the rule file, the test clock and quick
// retries (the clock moves by evaluation steps, so a retry waits a step).
func alertServer(t *testing.T, db *mongo.Database, clk *testClock, rules, holder string, extra ...Opt) *Server {
	t.Helper()
	opts := append([]Opt{Now(clk.now), Lake(""), Rules(rules), DashboardURL("http://dash.example:8080/"),
		Alerting(alerts.Now(clk.now), alerts.Holder(holder), alerts.Retry(time.Millisecond, 10*time.Millisecond, 3),
			alerts.LeaseTTL(90*time.Second))}, extra...)
	s, err := New(db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAlertsDemoBursts runs the demo's rule file over three hours of the
// demo's traffic at its default rate (1.08 M events), evaluating every
// 30 s as speed writes: every error burst fires one notification per
// notifier within two evaluation intervals, and one resolution follows,
// exactly as the truth computed from the lines says.
func TestAlertsDemoBursts(t *testing.T) {
	demoHistory := 3 * time.Hour
	if v := os.Getenv("LOGLAMBDA_ALERTS_HISTORY"); v != "" {
		demoHistory, _ = time.ParseDuration(v)
	}
	if testing.Short() {
		t.Skip("three hours of demo traffic")
	}
	ctx := context.Background()
	db := testDB(t)
	hook, smtp := startHook(t), startSMTP(t)
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	const every = 30 * time.Second
	genStart := time.Now()
	evs, lines := genEvents(t, start, demoHistory, 100, 1)
	clk := &testClock{t: start}
	srv := alertServer(t, db, clk, demoRulesFor(t, hook, smtp), "A")
	feed := newSpeedFeed(db, evs)
	feed.views = []string{views.ViewLevels}
	var times []time.Time
	for now := start.Add(every); !now.After(start.Add(demoHistory)); now = now.Add(every) {
		times = append(times, now)
	}
	began := time.Now()
	t.Logf("%d events generated in %s", len(evs), time.Since(genStart).Round(time.Millisecond))
	for i, now := range times {
		step(t, ctx, clk, feed, now, srv)
		if i%60 == 59 {
			t.Logf("%d evaluations in %s", i+1, time.Since(began).Round(time.Millisecond))
		}
	}
	t.Logf("%d events, %d evaluations in %s", len(evs), len(times), time.Since(began).Round(time.Millisecond))

	want := expectEpisodes(lines, times, 5*time.Minute, 500)
	if len(want) < 3 {
		t.Fatalf("the truth has %d bursts over 3 h; the generator should make about 6", len(want))
	}
	type fired struct {
		instance string
		t        time.Time
	}
	var gotFire, gotResolve, wantFire, wantResolve []fired
	for _, ep := range want {
		wantFire = append(wantFire, fired{ep.instance, ep.fire})
		if !ep.resolve.IsZero() {
			wantResolve = append(wantResolve, fired{ep.instance, ep.resolve})
		}
	}
	for _, m := range hook.messages() {
		if m.Version != "4" || len(m.Alerts) != 1 || m.Receiver != "webhook" || m.GroupLabels["alertname"] != "InstanceErrorBurst" {
			t.Fatalf("webhook body is not Alertmanager's: %+v", m)
		}
		a := m.Alerts[0]
		if a.Labels["severity"] != "page" || a.Labels["level"] != "ERROR" || a.GeneratorURL != "http://dash.example:8080/#alerts" ||
			!strings.Contains(a.Annotations["summary"], a.Labels["instance"]) || len(a.Fingerprint) != 16 {
			t.Errorf("webhook alert: %+v", a)
		}
		switch m.Status {
		case "firing":
			gotFire = append(gotFire, fired{a.Labels["instance"], a.StartsAt})
		case "resolved":
			gotResolve = append(gotResolve, fired{a.Labels["instance"], a.EndsAt})
		}
	}
	if fmt.Sprint(gotFire) != fmt.Sprint(wantFire) {
		t.Errorf("webhook firing:\n got %v\nwant %v", gotFire, wantFire)
	}
	if fmt.Sprint(gotResolve) != fmt.Sprint(wantResolve) {
		t.Errorf("webhook resolved:\n got %v\nwant %v", gotResolve, wantResolve)
	}

	// Each burst (the generator's burst messages, read from the lines)
	// that starts an alert fires it within two evaluation intervals.
	for _, b := range bursts(lines) {
		for _, ep := range want {
			if ep.instance == b.instance && !ep.fire.Before(b.start) && ep.fire.Before(b.end.Add(5*time.Minute)) {
				if d := ep.fire.Sub(b.start); d > 2*every {
					t.Errorf("burst of %s from %s fired %s later, more than two evaluation intervals", b.instance, b.start, d)
				}
				break
			}
		}
	}

	mails := smtp.messages()
	var mailFire, mailResolve int
	for _, m := range mails {
		if !m.TLS || !m.Authenticated || m.From != "loglambda@localhost" || len(m.To) != 1 || m.To[0] != "dba@localhost" {
			t.Errorf("mail %+v: want STARTTLS, authenticated, from loglambda@localhost to dba@localhost", m)
		}
		if !strings.Contains(m.Data, "http://dash.example:8080/#alerts") || !strings.Contains(m.Data, "logged") {
			t.Errorf("mail lacks the dashboard link or the summary:\n%s", m.Data)
		}
		switch {
		case strings.Contains(m.Data, "Subject: [FIRING] InstanceErrorBurst (instance=db-"):
			mailFire++
		case strings.Contains(m.Data, "Subject: [RESOLVED] InstanceErrorBurst (instance=db-"):
			mailResolve++
		default:
			t.Errorf("mail subject:\n%s", m.Data)
		}
	}
	if mailFire != len(wantFire) || mailResolve != len(wantResolve) {
		t.Errorf("mails: %d firing, %d resolved; want %d, %d", mailFire, mailResolve, len(wantFire), len(wantResolve))
	}

	// /v1/alerts lists them; /v1/rules shows both demo rules evaluated;
	// /metrics counts evaluations and notifications.
	listed := listAlerts(t, srv, start, time.Time{})
	if len(listed) != len(want) {
		t.Errorf("/v1/alerts lists %d alerts, want %d", len(listed), len(want))
	}
	for _, a := range listed {
		for _, d := range a.Deliveries {
			if d.State != alerts.DeliverySent {
				t.Errorf("alert %s delivery %+v not sent", a.ID, d)
			}
		}
	}
	var rules alerts.RulesAnswer
	getJSONOf(t, srv, "/v1/rules", &rules)
	if len(rules.Rules) != 2 || !rules.Holding || rules.Evaluator != "A" {
		t.Errorf("/v1/rules: %+v", rules)
	}
	for _, r := range rules.Rules {
		if r.LastError != "" || !r.LastEval.Equal(times[len(times)-1]) {
			t.Errorf("rule %s: last eval %s error %q", r.Name, r.LastEval, r.LastError)
		}
	}
	m := serveText(t, srv, "/metrics")
	for _, w := range []string{
		fmt.Sprintf(`loglambda_alerts_evaluations_total{result="ok",rule="InstanceErrorBurst"} %d`, len(times)),
		fmt.Sprintf(`loglambda_alerts_notifications_sent_total{notifier="webhook"} %d`, len(wantFire)+len(wantResolve)),
	} {
		if !strings.Contains(m, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
}

// burst is a run of the generator's burst messages from one instance.
type burst struct {
	instance   string
	start, end time.Time
}

// bursts finds the error bursts in the lines by their messages.
func bursts(lines []genLine) []burst {
	var out []burst
	last := map[string]int{}
	for _, l := range lines {
		if l.Level != "ERROR" || !(strings.HasPrefix(l.Msg, "connection refused to 10.0.3.") ||
			strings.HasPrefix(l.Msg, "pool exhausted") || strings.HasPrefix(l.Msg, "could not connect to server")) {
			continue
		}
		if i, ok := last[l.Instance]; ok && l.TS.Sub(out[i].end) < 2*time.Minute {
			out[i].end = l.TS
			continue
		}
		out = append(out, burst{instance: l.Instance, start: l.TS, end: l.TS})
		last[l.Instance] = len(out) - 1
	}
	return out
}

func getJSONOf(t *testing.T, s *Server, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(serveText(t, s, path)), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// listAlerts is GET /v1/alerts of s: the active alerts and those resolved
// from from, until to unless it is zero.
func listAlerts(t *testing.T, s *Server, from, to time.Time) []alerts.Alert {
	t.Helper()
	path := "/v1/alerts?from=" + from.Format(time.RFC3339)
	if !to.IsZero() {
		path += "&to=" + to.Format(time.RFC3339)
	}
	var body struct {
		Alerts []alerts.Alert `json:"alerts"`
	}
	getJSONOf(t, s, path, &body)
	return body.Alerts
}

func serveText(t *testing.T, s *Server, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// burstWindow is the stretch of time around the first burst of lines:
// from 3 minutes before it to 8 minutes after it (the 5-minute window has
// let go of it by then). Another burst may begin within it.
func burstWindow(t *testing.T, lines []genLine) (from, to time.Time, b burst) {
	t.Helper()
	bs := bursts(lines)
	if len(bs) == 0 {
		t.Fatal("no burst in the generated lines")
	}
	b = bs[0]
	return b.start.Truncate(30 * time.Second).Add(-3 * time.Minute), b.end.Add(8 * time.Minute), b
}

// checkTold checks that each notifier was told each expected alert once:
// one firing per episode, one resolution per ended episode.
func checkTold(t *testing.T, hook *hookSink, smtp *smtpSink, want []episode) {
	t.Helper()
	fire, resolved := len(want), 0
	for _, ep := range want {
		if !ep.resolve.IsZero() {
			resolved++
		}
	}
	if got := hook.byStatus(); got["firing"] != fire || got["resolved"] != resolved {
		t.Errorf("webhook: %v, want %d firing and %d resolved (%v)", got, fire, resolved, want)
	}
	var mf, mr int
	for _, m := range smtp.messages() {
		switch {
		case strings.Contains(m.Data, "Subject: [FIRING]"):
			mf++
		case strings.Contains(m.Data, "Subject: [RESOLVED]"):
			mr++
		}
	}
	if mf != fire || mr != resolved {
		t.Errorf("mails: %d firing, %d resolved; want %d, %d", mf, mr, fire, resolved)
	}
}

// TestAlertsRestartWhileFiring restarts the evaluating server in the
// middle of a firing alert: the new process takes the lease over, reads
// the alert's state and tells nothing twice; the resolution is told once.
// The webhook receiver refuses the first delivery, which is retried.
func TestAlertsRestartWhileFiring(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	hook, smtp := startHook(t), startSMTP(t)
	hook.failFirst.Store(1)
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	evs, lines := genEvents(t, start, 90*time.Minute, 30, 3)
	from, to, b := burstWindow(t, lines)
	clk := &testClock{t: from}
	rules := demoRulesFor(t, hook, smtp)
	a := alertServer(t, db, clk, rules, "A")
	feed := newSpeedFeed(db, evs)
	var times []time.Time
	now := from
	for ; hook.byStatus()["firing"] == 0 && now.Before(b.end); now = now.Add(30 * time.Second) {
		step(t, ctx, clk, feed, now, a)
		times = append(times, now)
	}
	if hook.byStatus()["firing"] == 0 {
		t.Fatalf("no firing notification by the burst's end %s", b.end)
	}
	// Two more evaluations while firing, then a graceful restart.
	for i := 0; i < 2; i++ {
		step(t, ctx, clk, feed, now, a)
		times = append(times, now)
		now = now.Add(30 * time.Second)
	}
	if err := a.Alerts().Close(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := alertServer(t, db, clk, rules, "A-restarted")
	for ; now.Before(to); now = now.Add(30 * time.Second) {
		step(t, ctx, clk, feed, now, restarted)
		times = append(times, now)
	}
	want := expectEpisodes(lines, times, 5*time.Minute, 500)
	if len(want) == 0 || want[0].resolve.IsZero() || !want[0].fire.Before(times[len(times)-1]) {
		t.Fatalf("the truth: %v", want)
	}
	checkTold(t, hook, smtp, want)
	listed := listAlerts(t, restarted, from, now)
	if len(listed) != len(want) {
		t.Fatalf("/v1/alerts: %+v, want %d alerts", listed, len(want))
	}
	retried := 0
	for _, al := range listed {
		for _, d := range al.Deliveries {
			if d.State != alerts.DeliverySent {
				t.Errorf("delivery %+v not sent", d)
			}
			if d.Attempts == 2 {
				retried++
			}
		}
	}
	if retried != 1 {
		t.Errorf("%d deliveries took two attempts, want 1 (the webhook's first answer was 503)", retried)
	}
}

// TestAlertsTwoServers runs two serving processes with the same rules on
// one MongoDB: one evaluates, and the notifications are sent once. Then
// the evaluator dies without a word; the other takes over when its lease
// expires and sends the resolution, once. A notifier that never answers
// fails for good, visible in /v1/alerts and /metrics.
func TestAlertsTwoServers(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	hook, smtp := startHook(t), startSMTP(t)
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	evs, lines := genEvents(t, start, 90*time.Minute, 30, 3)
	from, to, b := burstWindow(t, lines)
	clk := &testClock{t: from}
	// A third notifier: a webhook on a port nobody listens on.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	rules := demoRulesFor(t, hook, smtp)
	raw, _ := os.ReadFile(rules)
	raw = []byte(strings.Replace(string(raw), "notifiers:\n", fmt.Sprintf("notifiers:\n  - name: dead\n    webhook: {url: %q, timeout: 2s}\n", deadURL), 1))
	raw = []byte(strings.Replace(string(raw), "notify: [log, webhook, mail]", "notify: [log, webhook, mail, dead]", 1))
	if err := os.WriteFile(rules, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	a := alertServer(t, db, clk, rules, "A")
	bsrv := alertServer(t, db, clk, rules, "B")
	feed := newSpeedFeed(db, evs)
	var times []time.Time
	now := from
	for ; now.Before(b.end); now = now.Add(30 * time.Second) {
		step(t, ctx, clk, feed, now, a, bsrv)
		times = append(times, now)
	}
	checkTold(t, hook, smtp, expectEpisodes(lines, times, 5*time.Minute, 500))
	if n := holders(t, ctx, a, bsrv); n != 1 {
		t.Fatalf("%d servers hold the lease, want 1", n)
	}
	// A dies: only B goes on; after the lease ttl (90s) B takes over.
	for ; now.Before(to); now = now.Add(30 * time.Second) {
		step(t, ctx, clk, feed, now, bsrv)
		times = append(times, now)
	}
	// The lease passes after up to 90s: B evaluates late, and the truth
	// is what B saw at the times it held the lease; the totals are the
	// same as for one evaluator unless a transition fell in the gap.
	want := expectEpisodes(lines, times, 5*time.Minute, 500)
	checkTold(t, hook, smtp, want)
	listed := listAlerts(t, a, from, now)
	if len(listed) != len(want) {
		t.Fatalf("/v1/alerts: %+v, want %d", listed, len(want))
	}
	failed, wantFailed := 0, 0
	for _, al := range listed {
		wantFailed++
		if al.State == alerts.StateResolved {
			wantFailed++
		}
		for _, d := range al.Deliveries {
			if d.Notifier == "dead" {
				if d.State == alerts.DeliveryQueued && d.NextAt.After(times[len(times)-1]) {
					// Its next attempt falls after the last evaluation (a
					// transition late in the window, or in the lease gap):
					// still being retried, not lost.
					wantFailed--
					continue
				}
				if d.State != alerts.DeliveryFailed || d.Attempts != 3 || !strings.Contains(d.LastError, "connection refused") {
					t.Errorf("dead notifier delivery %+v: want failed after 3 attempts with the error", d)
				}
				failed++
			}
		}
	}
	if failed != wantFailed {
		t.Errorf("%d failed deliveries to the dead notifier, want %d", failed, wantFailed)
	}
	// Each process counts what it did.
	total := 0
	for _, s := range []*Server{a, bsrv} {
		m := serveText(t, s, "/metrics")
		var n int
		if i := strings.Index(m, `loglambda_alerts_notifications_failed_total{notifier="dead"} `); i >= 0 {
			fmt.Sscan(m[i+len(`loglambda_alerts_notifications_failed_total{notifier="dead"} `):], &n)
		}
		total += n
	}
	if total != wantFailed {
		t.Errorf("/metrics of both count %d failed deliveries, want %d", total, wantFailed)
	}
}

// TestAlertsReload: a broken rule file is refused over POST
// /v1/rules/reload with the rule, field and mistake, and the rules loaded
// before keep running; a good one replaces them.
func TestAlertsReload(t *testing.T) {
	db := testDB(t)
	clk := &testClock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	good := "rules:\n  - name: Errors\n    view: levels\n    where: {level: ERROR}\n    window: 5m\n    threshold: {above: 10}\n"
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	s := alertServer(t, db, clk, path, "A")
	post := func() (int, string) {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/rules/reload", nil))
		return rec.Code, rec.Body.String()
	}
	if err := os.WriteFile(path, []byte(strings.Replace(good, "window: 5m", "window: 5 minutes", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, body := post()
	if code != http.StatusBadRequest || !strings.Contains(body, `rule \"Errors\"`) || !strings.Contains(body, "field window") {
		t.Errorf("broken file: %d %s", code, body)
	}
	var rules alerts.RulesAnswer
	getJSONOf(t, s, "/v1/rules", &rules)
	if len(rules.Rules) != 1 || rules.Rules[0].Window != alerts.Duration(5*time.Minute) || !strings.Contains(rules.ReloadError, "field window") {
		t.Errorf("after a refused reload: %+v", rules)
	}
	if err := os.WriteFile(path, []byte(good+"  - name: More\n    view: traffic\n    measure: pv\n    window: 1m\n    threshold: {below: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := post(); code != http.StatusOK || !strings.Contains(body, `"More"`) {
		t.Errorf("good file: %d %s", code, body)
	}
	// A window that is not whole panes is refused too.
	if err := os.WriteFile(path, []byte(strings.Replace(good, "window: 5m", "window: 90s", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := post(); code != http.StatusBadRequest || !strings.Contains(body, "not a multiple of the pane") {
		t.Errorf("window of 90s: %d %s", code, body)
	}
}

// TestAlertsSeasonal: the seasonal rule (page views against the median
// and MAD of the same hour on the past seven days, from batch views)
// stays quiet on a normal day of generated history and fires on an
// injected drop.
func TestAlertsSeasonal(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	hook := startHook(t)
	const pane = time.Hour
	day0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dropFrom, dropTo := day0.Add(8*24*time.Hour+14*time.Hour), day0.Add(8*24*time.Hour+15*time.Hour)
	// Nine days of traffic with a daily shape (quiet nights, busy
	// afternoons) and Poisson noise; on day 9 the hour from 14:00 keeps a
	// third of its events.
	t0 := time.Now()
	r := rand.New(rand.NewPCG(7, 7))
	panes := map[time.Time]*views.Pane{}
	for p := day0; p.Before(day0.Add(9 * 24 * time.Hour)); p = p.Add(pane) {
		h := float64(p.Hour()) + float64(p.Minute())/60
		lambda := 1600 * (1 + 0.6*math.Sin(2*math.Pi*(h-9)/24))
		n := poisson(r, lambda)
		if !p.Before(dropFrom) && p.Before(dropTo) {
			n /= 3
		}
		st := views.NewPane(0)
		for i := 0; i < n; i++ {
			ev := event.Event{Time: p.Add(time.Duration(r.Int64N(int64(pane)))), User: fmt.Sprintf("u%d", r.IntN(300)),
				IP: fmt.Sprintf("10.1.0.%d", r.IntN(250)), Level: "INFO", Host: "web-1"}
			st.Add(&ev)
		}
		panes[p] = st
	}
	t.Logf("generated in %s", time.Since(t0))
	docs := map[string][]collections.Doc{}
	for p, st := range panes {
		for _, view := range views.Names {
			d := makeDoc(t, st, view, p, collections.BatchPartition, day0)
			// Serving never reads the readable summary; leaving it out
			// makes the writes several times faster on FerretDB.
			d.PaneEnd, d.Summary = p.Add(pane), nil
			docs[view] = append(docs[view], d)
		}
	}
	for view, ds := range docs {
		t1 := time.Now()
		replaceDocs(t, db.Collection(collections.BatchCollection(view)), ds)
		t.Logf("%s %d docs in %s", view, len(ds), time.Since(t1))
	}
	writeHorizon(t, db, "logs", day0.Add(9*24*time.Hour), day0)
	t.Logf("written in %s", time.Since(t0))

	path := hookRules(t, hook, `  - name: PageViewsDrop
    view: traffic
    measure: pv
    window: 1h
    baseline: {days: 7, deviations: 4, direction: below}
    notify: [hook]
    annotations:
      summary: "{{ printf \"%.0f\" .Value }} page views, usual {{ printf \"%.0f\" .Median }} ({{ printf \"%.1f\" .Deviations }} deviations)"
`)
	clk := &testClock{t: day0}
	s := alertServer(t, db, clk, path, "A", Pane(pane))
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("refreshed in %s", time.Since(t0))
	// Day 8, a normal day with seven days of history: quiet all day.
	for now := day0.Add(7 * 24 * time.Hour); now.Before(day0.Add(8 * 24 * time.Hour)); now = now.Add(15 * time.Minute) {
		step(t, ctx, clk, nil, now, s)
	}
	if msgs := hook.messages(); len(msgs) != 0 {
		t.Fatalf("a normal day fired %d notifications: %+v", len(msgs), msgs[0])
	}
	var rs alerts.RulesAnswer
	getJSONOf(t, s, "/v1/rules", &rs)
	if rs.Rules[0].LastError != "" || rs.Rules[0].Samples != 1 {
		t.Fatalf("rule status: %+v", rs.Rules[0])
	}
	// Day 9 around the drop.
	for now := dropFrom.Add(-2 * time.Hour); now.Before(dropTo.Add(3 * time.Hour)); now = now.Add(15 * time.Minute) {
		step(t, ctx, clk, nil, now, s)
	}
	got := hook.messages()
	if len(got) != 2 || got[0].Status != "firing" || got[1].Status != "resolved" {
		t.Fatalf("drop: %d notifications %+v, want firing then resolved", len(got), got)
	}
	fire := got[0].Alerts[0].StartsAt
	// The 1-hour window ends at the last whole pane (1h) 2 minutes (the
	// delay) before now: it is the drop's hour from 15:02 on, so the first
	// evaluation after that, 15:15, fires.
	if !fire.Equal(dropTo.Add(15 * time.Minute)) {
		t.Errorf("fired at %s, want within the drop %s..%s", fire, dropFrom, dropTo)
	}
	t.Logf("drop fired at %s: %s", fire.Format("15:04"), got[0].Alerts[0].Annotations["summary"])
}

// poisson draws a Poisson variate with mean lambda (normal
// approximation: lambda is in the hundreds).
func poisson(r *rand.Rand, lambda float64) int {
	return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
}

// TestAlertsLeaseRace lets four servers evaluate at the same moments, in
// parallel, each time after the lease has expired: exactly one holds it
// each round.
func TestAlertsLeaseRace(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte("rules:\n  - name: Quiet\n    view: traffic\n    measure: pv\n    window: 1m\n    threshold: {above: 1e9}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	var srvs []*Server
	for i := 0; i < 4; i++ {
		srvs = append(srvs, alertServer(t, db, clk, path, fmt.Sprintf("S%d", i)))
	}
	for round := 0; round < 8; round++ {
		clk.set(clk.now().Add(100 * time.Second)) // past the 90s ttl
		var wg sync.WaitGroup
		for _, s := range srvs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Alerts().Evaluate(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := holders(t, ctx, srvs...); n != 1 {
			t.Fatalf("round %d: %d holders, want 1", round, n)
		}
	}
}

// TestAlertsNewPattern: a rule on the patterns view (issue 10's, mined as
// speed mines it) fires once on an ERROR message never seen before, and
// not on the ERROR pattern the hour before already had.
func TestAlertsNewPattern(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	pa := newPatternAlerts(t, start)
	f := pa.feed
	for i := 0; i < 90*60; i += 2 {
		at := start.Add(time.Duration(i) * time.Second)
		f.add(at, "INFO", fmt.Sprintf("query ok rows=%d in %dms", i%97, i%13))
		if i%60 == 0 {
			f.add(at, "ERROR", deadlockMsg(i))
		}
		if at.After(start.Add(70*time.Minute)) && at.Before(start.Add(72*time.Minute)) {
			f.add(at, "ERROR", diskFullMsg(i, i%5))
		}
	}
	s, _ := pa.serve(t, newErrorPatternRule)
	for now := start.Add(20 * time.Minute); now.Before(start.Add(90 * time.Minute)); now = now.Add(time.Minute) {
		step(t, ctx, pa.clk, nil, now, s)
	}
	got := pa.hook.messages()
	if len(got) != 2 || got[0].Status != "firing" || got[1].Status != "resolved" {
		t.Fatalf("%d notifications %+v, want one firing and its resolution", len(got), got)
	}
	a := got[0].Alerts[0]
	if !strings.Contains(a.Annotations["summary"], "No space left on device") || a.Labels["level"] != "ERROR" {
		t.Errorf("new pattern alert: %+v", a)
	}
}
