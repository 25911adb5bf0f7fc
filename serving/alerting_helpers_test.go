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
	"hash/fnv"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
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
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/formats"
	"github.com/loglambda/loglambda/schemas/views"
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
	if err := exec.Command(py, "-c", "import aiosmtpd").Run(); err != nil {
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
	cmd := exec.Command(py, "testdata/smtpd.py", strconv.Itoa(port), cert, key, s.user, s.pass)
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
		_ = cmd.Process.Kill()
		t.Fatal("smtpd did not start within 30s")
	}
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
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

// hookMsg is the Alertmanager webhook body as the test reads it, declared
// here from Alertmanager's documentation rather than taken from the code
// under test.
type hookMsg struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	} `json:"alerts"`
}

// hookSink is a webhook receiver on loopback; the first failFirst
// requests are answered 503.
type hookSink struct {
	srv       *httptest.Server
	failFirst atomic.Int64
	mu        sync.Mutex
	msgs      []hookMsg
}

func startHook(t *testing.T) *hookSink {
	h := &hookSink{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.failFirst.Add(-1) >= 0 {
			http.Error(w, "receiver busy", http.StatusServiceUnavailable)
			return
		}
		var m hookMsg
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("webhook body: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
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
