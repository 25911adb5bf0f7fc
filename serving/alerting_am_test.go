package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	demogen "github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/serving/alerts"
)

// amAlert is an alert as Alertmanager's v2 API lists it (GET
// /api/v2/alerts, GettableAlerts).
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Fingerprint string            `json:"fingerprint"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// startAlertmanager runs Debian's prometheus-alertmanager on loopback,
// routing every alert to the webhook at hookURL at once (group_wait 0s)
// and resolutions within a second; it returns its base URL.
func startAlertmanager(t *testing.T, hookURL string) string {
	t.Helper()
	bin := testkit.Tool(t, "prometheus-alertmanager", "receive alerts pushed to Alertmanager's v2 API")
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %q
        send_resolved: true
`, hookURL)
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := testkit.Command(bin, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+dir,
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testkit.Kill(cmd); _ = cmd.Wait() })
	base := "http://" + addr
	testkit.Await(t, time.Minute, "alertmanager on "+addr+" to be ready", func() error {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	})
	return base
}

func amAlerts(t *testing.T, base string) []amAlert {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// amProxy passes requests to a real Alertmanager and keeps the alerts
// pushed to its v2 API, to count loglambda's re-sends.
type amProxy struct {
	srv   *httptest.Server
	mu    sync.Mutex
	posts [][]alerts.PostableAlert
}

func startAMProxy(t *testing.T, base string) *amProxy {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p := &amProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v2/alerts" {
			body, _ := io.ReadAll(r.Body)
			var pa []alerts.PostableAlert
			if err := json.Unmarshal(body, &pa); err != nil {
				t.Errorf("alertmanager body %s: %v", body, err)
			}
			p.mu.Lock()
			p.posts = append(p.posts, pa)
			p.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// endingAt are the alerts pushed with endsAt at: a resolved alert's
// pushes.
func (p *amProxy) endingAt(at time.Time) []alerts.PostableAlert {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []alerts.PostableAlert
	for _, post := range p.posts {
		for _, a := range post {
			if a.EndsAt.Equal(at) {
				out = append(out, a)
			}
		}
	}
	return out
}

func (p *amProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.posts)
}

// hookRecord is one request to a webhook notifier: its id header and body.
type hookRecord struct {
	id  string
	msg alerts.WebhookMessage
}

// waitFor polls cond for at most d, a minute at least (testkit.Await): a
// loaded machine delivers later.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testkit.Await(t, max(d, time.Minute), what, func() error {
		if !cond() {
			return errors.New("not yet")
		}
		return nil
	})
}

// TestAlertsAlertmanager pushes an alert to a real Alertmanager (Debian's
// prometheus-alertmanager) and, beside it, to a webhook, on the real
// clock: a rule that fires while no traffic is written and resolves when
// it is. Alertmanager lists the alert with loglambda's fingerprint and
// startsAt; a restart after a crash between sending and recording (the
// alert document put back as it was before the send) sends the same
// notification id again; the re-send while firing moves Alertmanager's
// endsAt; the resolution reaches Alertmanager (its webhook tells
// "resolved" with the firing's startsAt) and carries the value at
// resolution, the number of events written, counted here. The resolved
// alert is then re-sent to Alertmanager at each resend interval (endsAt
// the resolution, the firing's startsAt) until ResolvedResendFor after
// the resolution, as Prometheus does, while Alertmanager's own receiver
// and the webhook notifier are told of it once.
func TestAlertsAlertmanager(t *testing.T) {
	ctx := context.Background()
	amHook := startHook(t) // what Alertmanager sends on, in its webhook format
	base := startAlertmanager(t, amHook.srv.URL+"/alerts")
	proxy := startAMProxy(t, base) // what loglambda pushes, on to Alertmanager
	direct := startHook(t)
	db := testDB(t)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	file := fmt.Sprintf(`notifiers:
  - name: am
    alertmanager: {url: %q, resend: 1s}
  - name: hook
    webhook: {url: %q}
  - name: log
    log: {}
rules:
  - name: NoTraffic
    view: traffic
    measure: pv
    window: 2m
    threshold: {below: 1}
    labels: {severity: page}
    annotations: {summary: "{{ .Value }} page views in {{ .Window }}"}
    notify: [am, hook, log]
`, proxy.srv.URL, direct.srv.URL)
	if err := os.WriteFile(rules, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	// Sub-millisecond times, as a real clock has: what reaches the
	// receivers is whole milliseconds, equal in firing and resolution.
	clk := &testClock{t: time.Now().UTC()}
	a := alertServer(t, db, clk, rules, "A")
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Alerts().Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	// Recorded, with its notification ids, before anything is sent.
	coll := db.Collection(collections.AlertCollection)
	var before bson.M
	if err := coll.FindOne(ctx, bson.M{"kind": collections.AlertKind}).Decode(&before); err != nil {
		t.Fatalf("the firing alert is not recorded before its notifications are sent: %v", err)
	}
	var queued collections.Alert
	raw, _ := bson.Marshal(before)
	if err := bson.Unmarshal(raw, &queued); err != nil {
		t.Fatal(err)
	}
	if len(queued.Deliveries) != 3 || len(direct.records()) != 0 {
		t.Fatalf("recorded deliveries %+v, webhook requests %d: want 3 queued, none sent", queued.Deliveries, len(direct.records()))
	}
	wantFP := collections.Fingerprint(map[string]string{"alertname": "NoTraffic", "severity": "page"})
	if queued.Fingerprint != wantFP || queued.State != alerts.StateFiring {
		t.Fatalf("alert %+v, want firing with fingerprint %s", queued, wantFP)
	}
	if err := a.Alerts().Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	var listed []amAlert
	waitFor(t, 10*time.Second, "Alertmanager lists the alert", func() bool { listed = amAlerts(t, base); return len(listed) == 1 })
	got := listed[0]
	if got.Fingerprint != wantFP || !got.StartsAt.Equal(queued.FiredAt) || got.Labels["severity"] != "page" || got.Status.State != "active" {
		t.Fatalf("Alertmanager lists %+v, want fingerprint %s, startsAt %s, active", got, wantFP, queued.FiredAt)
	}
	// A kill between sending and recording leaves the document as it was
	// before the send; the process that takes over sends again, the same
	// notification.
	if _, err := coll.ReplaceOne(ctx, bson.M{"_id": before["_id"]}, before, options.Replace()); err != nil {
		t.Fatal(err)
	}
	if err := a.Alerts().Close(ctx); err != nil {
		t.Fatal(err)
	}
	b := alertServer(t, db, clk, rules, "B")
	step(t, ctx, clk, nil, clk.now(), b)
	recs := direct.records()
	if len(recs) != 2 || recs[0].id == "" || recs[0].id != recs[1].id || recs[0].id != queued.Deliveries[1].ID {
		t.Fatalf("webhook requests %+v: want the firing twice with the recorded id %s", recs, queued.Deliveries[1].ID)
	}
	if fp := recs[1].msg.Alerts[0].Fingerprint; fp != wantFP {
		t.Fatalf("the resend's fingerprint %s, want %s", fp, wantFP)
	}
	if l := amAlerts(t, base); len(l) != 1 || l[0].Fingerprint != wantFP {
		t.Fatalf("after the resend Alertmanager lists %+v, want the one alert", l)
	}
	// Re-sent while firing: Alertmanager's endsAt moves on.
	endsBefore := amAlerts(t, base)[0].EndsAt
	clk.set(clk.now().Add(1500 * time.Millisecond))
	if err := b.Alerts().Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	wantEnds := clk.now().Truncate(time.Millisecond).Add(4 * alerts.DefaultEvery)
	waitFor(t, 5*time.Second, "the re-send moves endsAt", func() bool { return amAlerts(t, base)[0].EndsAt.Equal(wantEnds) })
	if !wantEnds.After(endsBefore) {
		t.Fatalf("endsAt %s after the re-send, %s before", wantEnds, endsBefore)
	}
	// Traffic: the last minute's events, counted from the lines.
	clk.set(time.Now().UTC())
	evs, lines := genEvents(t, clk.now().Add(-time.Minute), time.Minute, 10, 5)
	n := 0
	for _, l := range lines {
		if l.TS.Before(clk.now()) {
			n++
		}
	}
	step(t, ctx, clk, newSpeedFeed(db, evs), clk.now(), b)
	resolvedAt := clk.now().Truncate(time.Millisecond)
	waitFor(t, 10*time.Second, "Alertmanager's webhook tells the resolution", func() bool { return amHook.byStatus()["resolved"] == 1 })
	if l := amAlerts(t, base); len(l) != 0 {
		t.Errorf("Alertmanager still lists %+v after the resolution", l)
	}
	var amFiring, amResolved alerts.WebhookAlert
	for _, m := range amHook.messages() {
		if m.Status == "firing" {
			amFiring = m.Alerts[0]
		} else {
			amResolved = m.Alerts[0]
		}
	}
	if !amResolved.StartsAt.Equal(amFiring.StartsAt) || !amResolved.StartsAt.Equal(queued.FiredAt) ||
		!amResolved.EndsAt.Equal(resolvedAt) || amResolved.Fingerprint != wantFP {
		t.Errorf("Alertmanager told firing %+v, resolved %+v; want startsAt %s, endsAt %s, fingerprint %s",
			amFiring, amResolved, queued.FiredAt, resolvedAt, wantFP)
	}
	recs = direct.records()
	last := recs[len(recs)-1]
	firingJSON, _ := json.Marshal(recs[0].msg.Alerts[0].StartsAt)
	resolvedJSON, _ := json.Marshal(last.msg.Alerts[0].StartsAt)
	if last.msg.Status != "resolved" || string(firingJSON) != string(resolvedJSON) || last.id == recs[0].id {
		t.Errorf("webhook resolution %+v (id %s): want startsAt %s as the firing's, a new id", last.msg, last.id, firingJSON)
	}
	wantSummary := fmt.Sprintf("%d page views in 2m0s", n)
	if s := last.msg.Alerts[0].Annotations["summary"]; s != wantSummary {
		t.Errorf("resolution summary %q, want %q", s, wantSummary)
	}
	listedAlerts := listAlerts(t, b, queued.ActiveSince.Add(-time.Minute), time.Time{})
	if len(listedAlerts) != 1 || listedAlerts[0].Value != float64(n) || listedAlerts[0].State != alerts.StateResolved {
		t.Errorf("/v1/alerts %+v: want the alert resolved with value %d", listedAlerts, n)
	}
	if !strings.HasPrefix(queued.ID, "alert|NoTraffic|"+wantFP) {
		t.Errorf("alert id %s", queued.ID)
	}

	// The resolved alert re-sent at each resend interval (1 s), with
	// traffic going on so the rule stays quiet.
	later, _ := genEvents(t, clk.now(), alerts.ResolvedResendFor+2*time.Minute, 1, 6)
	feed := newSpeedFeed(db, later)
	if got := proxy.endingAt(resolvedAt); len(got) != 1 {
		t.Fatalf("resolved pushes %+v right after the resolution, want 1", got)
	}
	for range 3 {
		step(t, ctx, clk, feed, clk.now().Add(1500*time.Millisecond), b)
	}
	resent := proxy.endingAt(resolvedAt)
	if len(resent) != 4 {
		t.Fatalf("%d pushes of the resolved alert after 3 resend intervals, want 4", len(resent))
	}
	for _, pa := range resent {
		if !pa.StartsAt.Equal(queued.FiredAt) || collections.Fingerprint(pa.Labels) != wantFP {
			t.Errorf("re-sent resolved alert %+v, want startsAt %s and fingerprint %s", pa, queued.FiredAt, wantFP)
		}
	}
	// Still re-sent just before the window closes; past it, nothing more
	// is pushed.
	step(t, ctx, clk, feed, resolvedAt.Add(alerts.ResolvedResendFor-2*time.Second), b)
	if n := len(proxy.endingAt(resolvedAt)); n != 5 {
		t.Fatalf("%d pushes of the resolved alert 2 s before the window closes, want 5", n)
	}
	step(t, ctx, clk, feed, resolvedAt.Add(alerts.ResolvedResendFor+time.Second), b)
	posts := proxy.count()
	step(t, ctx, clk, feed, clk.now().Add(1500*time.Millisecond), b)
	step(t, ctx, clk, feed, clk.now().Add(1500*time.Millisecond), b)
	if n := proxy.count(); n != posts || len(proxy.endingAt(resolvedAt)) < 4 {
		t.Errorf("%d pushes after the %s window closed, want none", n-posts, alerts.ResolvedResendFor)
	}
	// Alertmanager deduplicates: its receiver was told once; the webhook
	// notifier (told once, by loglambda) too.
	time.Sleep(2 * time.Second)
	if st := amHook.byStatus(); st["resolved"] != 1 || st["firing"] != 1 {
		t.Errorf("Alertmanager's receiver told %v, want one firing and one resolved", st)
	}
	resolvedTold := 0
	for _, r := range direct.records() {
		if r.msg.Status == "resolved" {
			resolvedTold++
		}
	}
	if resolvedTold != 1 {
		t.Errorf("the webhook notifier was told the resolution %d times, want once", resolvedTold)
	}
}

// TestAlertsDemoWithoutReceivers runs the demo's rule file as up --demo
// writes it, with no webhook receiver and no mail server listening: the
// burst's alert is told by the log notifier (an INFO line with its
// summary), the webhook and mail deliveries are retried and marked failed
// in /v1/alerts, and nothing is logged at WARN or ERROR.
func TestAlertsDemoWithoutReceivers(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	dead := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	t.Setenv("LOGLAMBDA_DEMO_WEBHOOK_URL", "http://"+dead()+"/alerts")
	t.Setenv("LOGLAMBDA_DEMO_SMTP", dead())
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, demogen.DemoRules, 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &testkit.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	evs, lines := genEvents(t, start, 90*time.Minute, 30, 3)
	from, _, b := burstWindow(t, lines)
	clk := &testClock{t: from}
	s := alertServer(t, db, clk, rules, "A", Logger(log))
	feed := newSpeedFeed(db, evs)
	now := from
	for ; !strings.Contains(logs.String(), `msg="alert firing"`) && now.Before(b.end); now = now.Add(30 * time.Second) {
		step(t, ctx, clk, feed, now, s)
	}
	// Three more steps: the retries (3 attempts) run out.
	for i := 0; i < 3; i++ {
		now = now.Add(30 * time.Second)
		step(t, ctx, clk, feed, now, s)
	}
	out := logs.String()
	var told string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, `notifier=log`) && strings.Contains(l, `msg="alert firing"`) {
			told = l
		}
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			t.Errorf("logged: %s", l)
		}
	}
	if !strings.Contains(told, "level=INFO") || !strings.Contains(told, "ERROR lines in 5m0s") || !strings.Contains(told, "instance:"+b.instance) {
		t.Fatalf("no INFO line of the log notifier for %s's burst; log:\n%s", b.instance, out)
	}
	listed := listAlerts(t, s, from, time.Time{})
	if len(listed) == 0 {
		t.Fatal("/v1/alerts lists no alert")
	}
	states := map[string]string{}
	for _, d := range listed[0].Deliveries {
		states[d.Notifier] = d.State
	}
	if states["log"] != alerts.DeliverySent || states["webhook"] != alerts.DeliveryFailed || states["mail"] != alerts.DeliveryFailed {
		t.Errorf("deliveries %+v: want log sent, webhook and mail failed after their retries", listed[0].Deliveries)
	}
}
