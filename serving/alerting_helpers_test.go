package serving

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/fnv"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	demogen "github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/formats"
	"github.com/loglambda/loglambda/schemas/patterns"
	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/alerts"
)

// Real parts of the alert tests: an SMTP server (Debian's aiosmtpd, with
// STARTTLS and authentication required), an HTTP webhook receiver, a feed
// that writes speed documents as time advances, and a clock shared by
// the servers and their engines.

// testClock is the clock of the servers and engines under test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// smtpMsg is one message the SMTP server received.
type smtpMsg struct {
	From          string   `json:"from"`
	To            []string `json:"to"`
	Data          string   `json:"data"`
	TLS           bool     `json:"tls"`
	Authenticated bool     `json:"authenticated"`
}

// smtpSink is a running aiosmtpd.
type smtpSink struct {
	addr, caFile, user, pass string
	mu                       sync.Mutex
	msgs                     []smtpMsg
}

func (s *smtpSink) messages() []smtpMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMsg(nil), s.msgs...)
}

// startSMTP starts testdata/smtpd.py on a free loopback port with a
// certificate made for 127.0.0.1, and stops it when the test ends.
func startSMTP(t *testing.T) *smtpSink {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := testkit.Command(py, "-c", "import aiosmtpd").Run(); err != nil {
		t.Fatalf("Debian's python3-aiosmtpd is needed (ci/test.sh installs it): %v", err)
	}
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &smtpSink{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), caFile: cert, user: "alerts", pass: "s3cret"}
	cmd := testkit.Command(py, "testdata/smtpd.py", strconv.Itoa(port), cert, key, s.user, s.pass)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		first := true
		for sc.Scan() {
			if first {
				first = false
				ready <- nil
				continue
			}
			var m smtpMsg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("smtpd output %q: %v", sc.Text(), err)
				continue
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
		}
		ready <- io.ErrUnexpectedEOF
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("smtpd did not start: %v", err)
		}
	case <-time.After(30 * time.Second):
		testkit.Kill(cmd)
		t.Fatal("smtpd did not start within 30s")
	}
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			testkit.Kill(cmd)
			<-done
		}
		_ = cmd.Wait()
	})
	return s
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// hookMsg is a webhook body. The hookSink checks every body against the
// keys Alertmanager's documentation lists, read as raw JSON, so that the
// test does not take the shape from the code under test.
type hookMsg = alerts.WebhookMessage

// amKeys are the keys of Alertmanager's webhook body (version 4) and of
// each of its alerts, from its documentation.
var amKeys = struct{ message, alert []string }{
	message: []string{"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels",
		"commonAnnotations", "externalURL", "alerts"},
	alert: []string{"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"},
}

// checkAMKeys reports the documented keys a body lacks.
func checkAMKeys(body []byte) error {
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return err
	}
	var missing []string
	for _, k := range amKeys.message {
		if _, ok := msg[k]; !ok {
			missing = append(missing, k)
		}
	}
	var as []map[string]json.RawMessage
	if err := json.Unmarshal(msg["alerts"], &as); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	for i, a := range as {
		for _, k := range amKeys.alert {
			if _, ok := a[k]; !ok {
				missing = append(missing, fmt.Sprintf("alerts[%d].%s", i, k))
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("Alertmanager keys missing: %v", missing)
	}
	return nil
}

// hookSink is a webhook receiver on loopback; the first failFirst
// requests are answered 503.
type hookSink struct {
	srv       *httptest.Server
	failFirst atomic.Int64
	mu        sync.Mutex
	msgs      []hookMsg
	// ids are the messages' notification ids (alerts.NotificationHeader).
	ids []string
}

func startHook(t *testing.T) *hookSink {
	h := &hookSink{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.failFirst.Add(-1) >= 0 {
			http.Error(w, "receiver busy", http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = checkAMKeys(body)
		}
		var m hookMsg
		if err == nil {
			err = json.Unmarshal(body, &m)
		}
		if err != nil {
			t.Errorf("webhook body %s: %v", body, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.ids = append(h.ids, r.Header.Get(alerts.NotificationHeader))
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookSink) messages() []hookMsg {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookMsg(nil), h.msgs...)
}

// records are the messages with their notification ids.
func (h *hookSink) records() []hookRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]hookRecord, len(h.msgs))
	for i, m := range h.msgs {
		out[i] = hookRecord{id: h.ids[i], msg: m}
	}
	return out
}

// byStatus counts the webhook messages per status (firing, resolved).
func (h *hookSink) byStatus() map[string]int {
	out := map[string]int{}
	for _, m := range h.messages() {
		out[m.Status]++
	}
	return out
}

// genLine is a generated line as the test reads it, with encoding/json,
// never with schemas/formats: the truth the alerts are checked against.
type genLine struct {
	TS       time.Time `json:"ts"`
	Instance string    `json:"instance"`
	Level    string    `json:"level"`
	Msg      string    `json:"msg"`
}

// readGenLine reads the fields the truth needs from a generated JSON
// line by their keys: quicker than encoding/json over a million lines, and
// independent of schemas/formats. The generator writes no escapes in
// these fields.
func readGenLine(tb testing.TB, line []byte) genLine {
	field := func(key string) string {
		k := []byte(`"` + key + `":"`)
		i := bytes.Index(line, k)
		if i < 0 {
			return ""
		}
		rest := line[i+len(k):]
		return string(rest[:bytes.IndexByte(rest, '"')])
	}
	ts, err := time.Parse(time.RFC3339Nano, field("ts"))
	if err != nil {
		tb.Fatalf("line %s: %v", line, err)
	}
	return genLine{TS: ts, Instance: field("instance"), Level: field("level"), Msg: field("msg")}
}

// genEvents generates dur of the demo's traffic at rate, in event-time
// order: the events as speed parses them, and the lines as the test reads
// them.
func genEvents(tb testing.TB, start time.Time, dur time.Duration, rate float64, seed int64) ([]event.Event, []genLine) {
	tb.Helper()
	g, err := demogen.New(demogen.Seed(seed), demogen.Rate(rate), demogen.Start(start), demogen.Count(int64(rate*dur.Seconds())),
		demogen.OutOfOrder(0), demogen.Late(0))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := formats.New("json")
	if err != nil {
		tb.Fatal(err)
	}
	n := int(rate * dur.Seconds())
	evs, lines := make([]event.Event, 0, n), make([]genLine, 0, n)
	for !g.Done() {
		rec := g.Next()
		var ev event.Event
		if err := p.Parse(rec.Line, &ev); err != nil {
			tb.Fatalf("parse %s: %v", rec.Line, err)
		}
		h := fnv.New32a()
		h.Write(rec.Key)
		ev.Partition = int32(h.Sum32() % 4)
		evs = append(evs, ev)
		lines = append(lines, readGenLine(tb, rec.Line))
	}
	// Without disorder the generator's times never go backwards; the feed
	// and the truth rely on it.
	for i := 1; i < len(lines); i++ {
		if lines[i].TS.Before(lines[i-1].TS) {
			tb.Fatalf("line %d at %s before line %d at %s", i, lines[i].TS, i-1, lines[i-1].TS)
		}
	}
	return evs, lines
}

// paneKey is one speed document's pane and partition.
type paneKey struct {
	pane time.Time
	part int32
}

// speedFeed writes speed documents as time advances: every event before
// the clock is in a pane, and the panes changed are rewritten, as speed's
// flush does. views limits the views written (all when empty): a traffic
// document, with its HyperLogLog sketches, takes ~40 ms to write on
// FerretDB, and a test of level rules need not wait for hundreds of them.
type speedFeed struct {
	db      *mongo.Database
	views   []string
	evs     []event.Event
	next    int
	panes   map[paneKey]*views.Pane
	touched map[paneKey]bool
}

func newSpeedFeed(db *mongo.Database, evs []event.Event) *speedFeed {
	return &speedFeed{db: db, evs: evs, views: views.Names, panes: map[paneKey]*views.Pane{}, touched: map[paneKey]bool{}}
}

// upTo adds the events before t and writes the panes they changed.
func (f *speedFeed) upTo(tb testing.TB, t time.Time) {
	tb.Helper()
	for ; f.next < len(f.evs) && f.evs[f.next].Time.Before(t); f.next++ {
		ev := &f.evs[f.next]
		k := paneKey{ev.Time.Truncate(time.Minute), ev.Partition}
		if f.panes[k] == nil {
			f.panes[k] = views.NewPane(1000)
		}
		f.panes[k].Add(ev)
		f.touched[k] = true
	}
	docs := map[string][]collections.Doc{}
	for k := range f.touched {
		p := f.panes[k]
		for _, view := range f.views {
			docs[view] = append(docs[view], makeDoc(tb, p, view, k.pane, k.part, t))
		}
	}
	for view, ds := range docs {
		replaceDocs(tb, f.db.Collection(collections.SpeedCollection(view)), ds)
	}
	f.touched = map[paneKey]bool{}
}

// episode is an alert the truth expects: an instance's ERROR lines over
// the window above the threshold from fire (an evaluation time) until
// resolve (the first evaluation where they are not; zero when still
// firing at the end).
type episode struct {
	instance      string
	fire, resolve time.Time
}

// expectEpisodes evaluates the threshold rule on the truth at each
// evaluation time: the window is [the end of now's pane - window, now),
// everything before now having been written.
func expectEpisodes(lines []genLine, times []time.Time, window time.Duration, threshold int) []episode {
	var out []episode
	open := map[string]*episode{}
	for _, now := range times {
		end := now.Truncate(time.Minute)
		if end.Before(now) {
			end = end.Add(time.Minute)
		}
		from := end.Add(-window)
		lo := sort.Search(len(lines), func(i int) bool { return !lines[i].TS.Before(from) })
		counts := map[string]int{}
		for i := lo; i < len(lines) && lines[i].TS.Before(now); i++ {
			// The rule keeps instances db-*: web lines name a host, no
			// instance.
			if lines[i].Level == "ERROR" && strings.HasPrefix(lines[i].Instance, "db-") {
				counts[lines[i].Instance]++
			}
		}
		for inst, n := range counts {
			if n > threshold && open[inst] == nil {
				open[inst] = &episode{instance: inst, fire: now}
			}
		}
		for inst, ep := range open {
			if counts[inst] <= threshold {
				ep.resolve = now
				out = append(out, *ep)
				delete(open, inst)
			}
		}
	}
	for _, ep := range open {
		out = append(out, *ep)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].fire.Equal(out[j].fire) {
			return out[i].fire.Before(out[j].fire)
		}
		return out[i].instance < out[j].instance
	})
	return out
}

// step evaluates every engine at t, after writing what speed would have
// written by then and refreshing each server's cache.
func step(tb testing.TB, ctx context.Context, clk *testClock, feed *speedFeed, t time.Time, srvs ...*Server) {
	tb.Helper()
	clk.set(t)
	if feed != nil {
		feed.upTo(tb, t)
	}
	for _, s := range srvs {
		if err := s.Refresh(ctx); err != nil {
			tb.Fatal(err)
		}
		if err := s.Alerts().Evaluate(ctx); err != nil {
			tb.Fatal(err)
		}
		if err := s.Alerts().Deliver(ctx); err != nil {
			tb.Fatal(err)
		}
	}
}

// hookRules writes a rule file of the rules given (YAML list items) with
// one notifier, "hook", posting to the hook; it returns the file's path.
func hookRules(t *testing.T, hook *hookSink, rules string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	file := fmt.Sprintf("notifiers:\n  - name: hook\n    webhook: {url: %q}\nrules:\n", hook.srv.URL) + rules
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// patternAlerts is the setting of the tests of rules on the patterns
// view: a webhook and a feed of minute panes, then a server (holder "A")
// on the test clock over what the feed wrote.
type patternAlerts struct {
	db   *mongo.Database
	hook *hookSink
	feed *patternFeed
	clk  *testClock
}

func newPatternAlerts(t *testing.T, start time.Time) *patternAlerts {
	t.Helper()
	return &patternAlerts{db: testDB(t), hook: startHook(t), feed: newPatternFeed(), clk: &testClock{t: start}}
}

// serve writes the feed's panes as speed documents updated at the clock's
// time and starts a server with the rules (YAML list items, see
// hookRules); it returns the server and its rule file.
func (p *patternAlerts) serve(t *testing.T, rules string) (*Server, string) {
	t.Helper()
	p.feed.write(t, p.db, p.clk.now())
	path := hookRules(t, p.hook, rules)
	return alertServer(t, p.db, p.clk, path, "A"), path
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
	docs := map[string][]collections.Doc{}
	for p, st := range f.panes {
		for _, view := range []string{views.ViewLevels, views.ViewPatterns} {
			d := makeDoc(t, st, view, p, 0, updated)
			d.Summary = nil
			docs[view] = append(docs[view], d)
		}
	}
	for view, ds := range docs {
		replaceDocs(t, db.Collection(collections.SpeedCollection(view)), ds)
	}
}

// deadlockMsg is the i-th line of an ERROR pattern the new-pattern tests
// give a history ("deadlock detected: process <*> waits ...").
func deadlockMsg(i int) string {
	return fmt.Sprintf("deadlock detected: process %d waits for ShareLock on transaction %d", i, i*7)
}

// diskFullMsg is a line of the ERROR pattern the new-pattern rules are to
// find ("could not write block <*> of relation <*>: No space left on
// device").
func diskFullMsg(block, relation int) string {
	return fmt.Sprintf("could not write block %d of relation base/%d: No space left on device", block, relation)
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
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	pa := newPatternAlerts(t, start)
	f := pa.feed
	// The deadlocks are old news: the ten minutes before had them.
	for i := -60; i < 30; i++ {
		f.add(start.Add(time.Duration(i)*10*time.Second), "ERROR", deadlockMsg(i))
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
	s, path := pa.serve(t, `  - name: Errors
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
`)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cl := llv1.NewQueryServiceClient(startGRPC(t, s))
	for now := start.Add(time.Minute); !now.After(start.Add(5 * time.Minute)); now = now.Add(time.Minute) {
		step(t, ctx, pa.clk, nil, now, s)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(good), "for: 1m", "for: soon", 1)), 0o644); err != nil {
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

	ha := listAlerts(t, s, start, time.Time{})
	ga, err := cl.Alerts(ctx, &llv1.AlertsRequest{From: ts(start)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ha) != 1 || len(ga.Alerts) != 1 {
		t.Fatalf("alerts: HTTP %+v, gRPC %+v; want the one of Errors", ha, ga.Alerts)
	}
	a, b := ha[0], ga.Alerts[0]
	if b.Id != a.ID || b.Rule != "Errors" || b.State != "firing" || b.Value != a.Value || b.Labels["instance"] != "db-1" ||
		!b.FiredAt.AsTime().Equal(a.FiredAt) || len(b.Deliveries) != 1 || b.Deliveries[0].State != "sent" || b.Deliveries[0].Notifier != "hook" {
		t.Errorf("alert: gRPC %+v\nHTTP %+v", b, a)
	}
	if got := pa.hook.byStatus(); got["firing"] != 1 {
		t.Errorf("webhook: %v", got)
	}
}

// newErrorPatternRule is a rule on ERROR patterns unseen in the hour
// before a 10-minute window, of at least 10 lines, told to "hook".
const newErrorPatternRule = `  - name: NewErrorPattern
    view: patterns
    window: 10m
    new_pattern: {level: ERROR, min_count: 10, lookback: 1h}
    annotations: {summary: "new: {{ .Template }}"}
    notify: [hook]
`

// holders counts the servers holding the evaluator lease.
func holders(t *testing.T, ctx context.Context, srvs ...*Server) int {
	t.Helper()
	n := 0
	for _, s := range srvs {
		r, err := s.Alerts().Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Holding {
			n++
		}
	}
	return n
}
