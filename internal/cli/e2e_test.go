package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/serving"
)

// The end-to-end tests run the whole lambda architecture: generated traffic
// through Kafka, speed and batch into MongoDB, serving over HTTP; the
// answers are checked against counts computed here from the generated
// lines, decoded with encoding/json independently of loglambda's parsers.

// e2eLine is what the test reads from a generated line.
type e2eLine struct {
	TS   time.Time `json:"ts"`
	User string    `json:"user"`
	IP   string    `json:"ip"`
	URL  string    `json:"url"`
}

// expectation holds the lines' event times, visitors, IPs and search terms.
type expectation struct {
	lines []e2eLine
	terms []string // search term of each line, "" for none
}

func newExpectation(t *testing.T, recs []gen.Record) *expectation {
	t.Helper()
	e := &expectation{}
	for _, r := range recs {
		var l e2eLine
		if err := json.Unmarshal(r.Line, &l); err != nil {
			t.Fatalf("generated line %s: %v", r.Line, err)
		}
		term := ""
		if path, query, ok := strings.Cut(l.URL, "?"); ok && path == "/search" {
			q, _ := url.ParseQuery(query)
			for _, name := range []string{"q", "Input"} {
				if v := q.Get(name); v != "" {
					term = strings.ToLower(strings.TrimSpace(v))
					break
				}
			}
		}
		e.lines = append(e.lines, l)
		e.terms = append(e.terms, term)
	}
	return e
}

// counts returns PV, UV, distinct IPs and term counts of [from, to).
func (e *expectation) counts(from, to time.Time) (pv, uv, ips int64, terms map[string]int64) {
	visitors, addrs := map[string]bool{}, map[string]bool{}
	terms = map[string]int64{}
	for i, l := range e.lines {
		if l.TS.Before(from) || !l.TS.Before(to) {
			continue
		}
		pv++
		id := l.User
		if id == "" || id == "-" {
			id = l.IP
		}
		if id != "" {
			visitors[id] = true
		}
		if l.IP != "" {
			addrs[l.IP] = true
		}
		if e.terms[i] != "" {
			terms[e.terms[i]]++
		}
	}
	return pv, int64(len(visitors)), int64(len(addrs)), terms
}

type termCount = testkit.Term

type hotAnswer struct {
	Terms        []termCount `json:"terms"`
	ErrorBound   int64       `json:"error_bound"`
	BatchHorizon *time.Time  `json:"batch_horizon"`
	Exact        bool        `json:"exact"`
}

type trafficCounts struct {
	T   time.Time `json:"t"`
	PV  int64     `json:"pv"`
	UV  int64     `json:"uv"`
	IPs int64     `json:"ips"`
}

type trafficAnswer struct {
	Series       []trafficCounts `json:"series"`
	Total        trafficCounts   `json:"total"`
	BatchHorizon *time.Time      `json:"batch_horizon"`
	Exact        bool            `json:"exact"`
}

type statusAnswer struct {
	BatchHorizon *time.Time `json:"batch_horizon"`
	Events       int64      `json:"events"`
	LateDropped  int64      `json:"late_dropped"`
	ParseErrors  int64      `json:"parse_errors"`
	Partitions   []struct {
		Lag int64 `json:"lag"`
	} `json:"partitions"`
	Lake struct {
		Rows        int64 `json:"rows"`
		ParseErrors int64 `json:"parse_errors"`
	} `json:"lake"`
}

// getJSON fetches base+path into v.
func getJSON(t *testing.T, base, path string, v any) {
	t.Helper()
	if err := tryGetJSON(base, path, v); err != nil {
		t.Fatal(err)
	}
}

func tryGetJSON(base, path string, v any) error {
	resp, err := http.Get(base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %v in %s", path, err, body)
	}
	return nil
}

func rangeQuery(from, to time.Time) string {
	return "from=" + from.Format(time.RFC3339) + "&to=" + to.Format(time.RFC3339)
}

// startStack opens the in-process stack of cfg (openStack) with the
// tests' defaults where cfg leaves them empty (loopback listeners on free
// ports, topic logs, JSON lines with the demo's hot term, 1m panes, 2m
// lateness), runs speed and serves the HTTP API on a test server; all of
// it stops when t ends, speed before the stack.
func startStack(t *testing.T, cfg upConfig) (*stack, context.Context, *httptest.Server) {
	t.Helper()
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&cfg.data, t.TempDir())
	def(&cfg.kafkaListen, "127.0.0.1:0")
	def(&cfg.mongoListen, "127.0.0.1:0")
	def(&cfg.httpAddr, "127.0.0.1:0")
	def(&cfg.topic, "logs")
	def(&cfg.mongoDB, "loglambda")
	def(&cfg.format, "json")
	def(&cfg.hotTerm, "param:q,Input")
	if cfg.pane == 0 {
		cfg.pane = time.Minute
	}
	if cfg.lateness == 0 {
		cfg.lateness = 2 * time.Minute
	}
	if cfg.batchEvery == 0 {
		cfg.batchEvery = time.Hour
	}
	st, err := openStack(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.close)
	ctx, cancel := context.WithCancel(context.Background())
	speedDone := make(chan error, 1)
	go func() { speedDone <- st.speed.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-speedDone; err != nil {
			t.Errorf("speed: %v", err)
		}
	})
	web := httptest.NewServer(st.serving.Handler())
	t.Cleanup(web.Close)
	return st, ctx, web
}

// TestEndToEnd runs the stack in-process as up wires it, feeds three hours
// of deterministic traffic (no disorder), lets speed consume it all, runs
// batch with a clock that makes the first two hours complete, and checks
// the merged answers.
func TestEndToEnd(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: starts Kafka, MongoDB and all layers")
	t.Parallel()      // see "Parallel" in e2e_test.go
	const rate = 10.0 // 3 h: 108 000 events
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	end := t0.Add(3 * time.Hour)
	batchNow := t0.Add(2*time.Hour + 30*time.Minute) // hours 0 and 1 complete
	horizon := t0.Add(2 * time.Hour)

	st, ctx, web := startStack(t, upConfig{partitions: 4, batchNow: func() time.Time { return batchNow }})

	// Produce three hours of traffic through the same path as gen.
	recs := sendGenerated(t, ctx, st, 42, rate, t0, int64(3*3600*rate))
	want := newExpectation(t, recs)
	n := int64(len(recs))

	// Wait until speed has applied and flushed every event.
	var status statusAnswer
	waitApplied(t, ctx, st.serving, web.URL, int64(n), 150*time.Second, &status)
	if status.LateDropped != 0 || status.ParseErrors != 0 {
		t.Fatalf("late dropped %d, parse errors %d: want none for traffic without disorder", status.LateDropped, status.ParseErrors)
	}

	sum, err := st.batch.Run(ctx)
	if err != nil {
		t.Fatalf("batch run: %v", err)
	}
	t.Logf("batch run: %+v", sum)
	if err := st.serving.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	getJSON(t, web.URL, "/v1/status", &status)
	if status.BatchHorizon == nil || !status.BatchHorizon.Equal(horizon) {
		t.Fatalf("batch horizon %v, want %v", status.BatchHorizon, horizon)
	}

	tests := []struct {
		name     string
		from, to time.Time
		batch    bool // wholly before the horizon: exact everywhere
		speed    bool // wholly after it: PV exact, estimates within bounds
	}{
		{"before horizon", t0, horizon, true, false},
		{"one batch hour", t0.Add(time.Hour), horizon, true, false},
		{"after horizon", horizon, end, false, true},
		{"half hour of speed", horizon.Add(10 * time.Minute), horizon.Add(40 * time.Minute), false, true},
		{"straddling", horizon.Add(-30 * time.Minute), horizon.Add(30 * time.Minute), false, false},
		{"everything", t0, end, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pv, uv, ips, terms := want.counts(tt.from, tt.to)
			var tr trafficAnswer
			getJSON(t, web.URL, "/v1/traffic?step=1h&"+rangeQuery(tt.from, tt.to), &tr)
			if tr.Total.PV != pv {
				t.Errorf("pv %d, want %d", tr.Total.PV, pv)
			}
			var hot hotAnswer
			getJSON(t, web.URL, "/v1/hot?k=20&"+rangeQuery(tt.from, tt.to), &hot)
			if len(hot.Terms) == 0 {
				t.Fatalf("no hot terms")
			}
			// Distinct counts do not add up over panes: a range of several
			// speed panes is a HyperLogLog estimate; wholly before the
			// horizon serving counts them from the lake, exactly.
			within := func(what string, got, want int64) {
				if tt.batch && got != want {
					t.Errorf("%s %d, want exactly %d before the horizon", what, got, want)
				} else if math.Abs(float64(got-want)) > 0.02*float64(want) {
					t.Errorf("%s %d, want %d within 2%%", what, got, want)
				}
			}
			within("uv", tr.Total.UV, uv)
			within("ips", tr.Total.IPs, ips)
			if tr.Exact != tt.batch {
				t.Errorf("traffic exact %v, want %v", tr.Exact, tt.batch)
			}
			for _, p := range tr.Series {
				pv, uv, ips, _ := want.counts(p.T, p.T.Add(time.Hour))
				if tt.batch && (p.PV != pv || p.UV != uv || p.IPs != ips) {
					t.Errorf("hour %s: pv %d uv %d ips %d, want exactly %d %d %d", p.T, p.PV, p.UV, p.IPs, pv, uv, ips)
				}
			}
			switch {
			case tt.batch:
				// Every one-minute bucket is one batch pane: exact.
				var perPane trafficAnswer
				getJSON(t, web.URL, "/v1/traffic?step=1m&"+rangeQuery(tt.from, tt.to), &perPane)
				if want := int(tt.to.Sub(tt.from) / time.Minute); len(perPane.Series) != want {
					t.Fatalf("%d one-minute buckets, want %d", len(perPane.Series), want)
				}
				for _, p := range perPane.Series {
					pv, uv, ips, _ := want.counts(p.T, p.T.Add(time.Minute))
					if p.PV != pv || p.UV != uv || p.IPs != ips {
						t.Fatalf("pane %s: pv %d uv %d ips %d, want exactly %d %d %d", p.T, p.PV, p.UV, p.IPs, pv, uv, ips)
					}
				}
				if !hot.Exact || hot.ErrorBound != 0 {
					t.Errorf("hot exact %v, error bound %d: want exact batch answer", hot.Exact, hot.ErrorBound)
				}
				if w := testkit.Top(terms, 20); !slices.Equal(hot.Terms, w) {
					t.Errorf("hot terms\n got %v\nwant %v", hot.Terms, w)
				}
			case tt.speed:
				for _, got := range hot.Terms {
					if w := terms[got.Term]; w > got.Count || w < got.Count-hot.ErrorBound {
						t.Errorf("term %q: count %d, true count %d beyond the error bound %d", got.Term, got.Count, w, hot.ErrorBound)
					}
				}
				if w := testkit.Top(terms, 1)[0]; hot.Terms[0].Term != w.Term && hot.ErrorBound == 0 {
					t.Errorf("top term %v, want %v", hot.Terms[0], w)
				}
			}
			t.Logf("pv %d uv %d/%d ips %d/%d top %v bound %d", pv, tr.Total.UV, uv, tr.Total.IPs, ips, hot.Terms[0], hot.ErrorBound)
		})
	}
}

// interrupt stops a running loglambda as Ctrl-C does and reports whether
// it ended within 3 minutes (its last flush, on a loaded machine); an
// unclean exit or a process still running (then killed) fails the test.
func interrupt(t *testing.T, cmd *exec.Cmd) bool {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s after SIGINT: %v", cmd.Args[1], err)
		}
		return true
	case <-time.After(3 * time.Minute):
		testkit.Kill(cmd)
		<-done
		t.Errorf("%s did not stop within 3 minutes of SIGINT", cmd.Args[1])
		return false
	}
}

// waitApplied refreshes srv until /v1/status at base says speed applied
// n events, within timeout, then decodes that status into v.
func waitApplied(t *testing.T, ctx context.Context, srv *serving.Server, base string, n int64, timeout time.Duration, v any) {
	t.Helper()
	waitFor(t, timeout, "speed to apply every event", func() error {
		if err := srv.Refresh(ctx); err != nil {
			return err
		}
		var status struct{ Events int64 }
		if err := tryGetJSON(base, "/v1/status", &status); err != nil {
			return err
		}
		if status.Events != n {
			return fmt.Errorf("speed applied %d of %d events", status.Events, n)
		}
		return nil
	})
	if err := tryGetJSON(base, "/v1/status", v); err != nil {
		t.Fatal(err)
	}
}

// collectSink keeps the records it passes on.
type collectSink struct {
	next genSink
	recs []gen.Record
}

func (s *collectSink) put(ctx context.Context, r gen.Record) error {
	s.recs = append(s.recs, r)
	return s.next.put(ctx, r)
}
func (s *collectSink) flush(ctx context.Context) error { return s.next.flush(ctx) }
func (s *collectSink) close()                          { s.next.close() }

// waitFor polls cond until it returns nil: testkit.Await with timeout
// (at least a minute) as the time in which nothing moved, so that a loaded
// machine's slower progress is waited for.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	testkit.Await(t, max(timeout, time.Minute), what, cond)
}

// Parallel: the end-to-end tests that run their own processes or stack on
// free ports and assert no time call t.Parallel. They mostly wait (batch
// intervals, restarts, the demo's burst two minutes in), so two at a time
// (go test's -parallel, GOMAXPROCS) shorten the package's run. The tests
// that assert a time (TestSpeedGroupFaults' 15 s without a checkpoint,
// TestOutages' 15 s to notice, TestCredentialsRefused's 5 s), set the
// environment (t.Setenv, testkit.StartS3; testkit.StartS3Processes does
// not) or start a second in-process stack run alone, before them.

// built is the loglambda binary of the end-to-end tests, built once per
// test binary: linking the 170 MB binary took 2m16s on the shared machine
// (go build with a warm cache), once per end-to-end test before.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildBinary returns the path of loglambda built from this tree (once,
// on first use): the end-to-end tests run the binary a user runs.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "loglambda-cli-test"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "loglambda")
		if out, err := testkit.Command("go", "build", "-o", built.bin, "github.com/loglambda/loglambda").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// startBinary starts bin with args, its output in the buffer returned.
// When t ends the process is killed unless it was waited for (interrupt),
// and its output, under name, is logged if t failed.
func startBinary(t *testing.T, name, bin string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	cmd := testkit.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			testkit.Kill(cmd)
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return cmd, &out
}

// TestUpBinary builds loglambda, runs `up --demo`, waits for batch and
// speed answers, stops it with SIGINT, starts it again on the same data and
// checks that nothing was lost and the history was not generated twice.
func TestUpBinary(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: builds the binary and runs up --demo")
	t.Parallel() // see "Parallel" in e2e_test.go
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	httpAddr, grpcAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	args := []string{"up", "--demo", "--data", data, "--kafka-listen", testkit.FreeAddr(t), "--mongo-listen", testkit.FreeAddr(t),
		"--http", httpAddr, "--grpc", grpcAddr, "--rate", "10", "--demo-history", "3h", "--batch-first", "1s", "--batch-every", "5s"}
	base := "http://" + httpAddr

	start := func(name string) (*exec.Cmd, *bytes.Buffer) { return startBinary(t, name, bin, args...) }
	stop := func(cmd *exec.Cmd) {
		if !interrupt(t, cmd) {
			t.FailNow()
		}
	}

	first, out := start("first run")
	began := time.Now().UTC()
	// The history starts 3 h before the first start; the whole range below
	// covers it and the minutes of live traffic.
	from := began.Add(-4 * time.Hour).Truncate(time.Hour)
	var status statusAnswer
	// The first batch run shows no progress until it ends: 5 min covers it
	// on a loaded machine.
	waitFor(t, 5*time.Minute, "a batch horizon and hot terms", func() error {
		if err := tryGetJSON(base, "/v1/status", &status); err != nil {
			return err
		}
		if status.BatchHorizon == nil || status.BatchHorizon.Before(began.Add(-4*time.Hour)) || status.BatchHorizon.After(began) {
			return fmt.Errorf("batch horizon %v, want within the last hours", status.BatchHorizon)
		}
		if status.Events < 3*3600*10 {
			return fmt.Errorf("speed applied %d events, want the 3 h of history (108000)", status.Events)
		}
		for i, p := range status.Partitions {
			// Lag is the broker's end offset now minus speed's last
			// checkpoint: the live feed keeps it above 0; caught up is
			// within ten seconds of it (10 events/s) of the end.
			if p.Lag > 100 {
				return fmt.Errorf("speed lags %d records on partition %d", p.Lag, i)
			}
		}
		var hot hotAnswer
		if err := tryGetJSON(base, "/v1/hot?k=5&"+rangeQuery(from, time.Now().Add(time.Minute)), &hot); err != nil {
			return err
		}
		if len(hot.Terms) == 0 {
			return fmt.Errorf("no hot terms yet")
		}
		return nil
	})
	if !strings.Contains(out.String(), "curl '"+base+"/v1/hot") || !strings.Contains(out.String(), "kcat -b") ||
		!strings.Contains(out.String(), "grpcurl -plaintext "+grpcAddr+" loglambda.v1.QueryService/Hot") {
		t.Errorf("banner lacks the URLs:\n%s", out.String())
	}
	checkGRPC(t, grpcAddr, from, status)
	cut := time.Now().UTC().Truncate(time.Minute)
	var before trafficAnswer
	// Serving reads a bounded number of speed's pane writes a refresh
	// (pending_writes in the status): wait until it has read them all and
	// the range holds the generated history up to cut, so that "before" is the whole history and not a refresh in progress.
	waitFor(t, 2*time.Minute, "serving to hold the whole history", func() error {
		var st struct {
			Refresh struct {
				PendingWrites int64 `json:"pending_writes"`
			} `json:"refresh"`
		}
		if err := tryGetJSON(base, "/v1/status", &st); err != nil {
			return err
		}
		if st.Refresh.PendingWrites > 0 {
			return fmt.Errorf("serving has %d speed pane writes still to read", st.Refresh.PendingWrites)
		}
		if err := tryGetJSON(base, "/v1/traffic?step=1h&"+rangeQuery(from, cut), &before); err != nil {
			return err
		}
		// The history began at or before began-3h, at 10 events/s: the
		// range up to cut holds at least that many (less 1 % for the
		// generator's spread of timestamps).
		if want := int64(cut.Sub(began.Add(-3*time.Hour)).Seconds()) * 10 * 99 / 100; before.Total.PV < want {
			return fmt.Errorf("pv %d before the restart, want at least %d of the history", before.Total.PV, want)
		}
		return nil
	})
	stop(first)

	second, _ := start("second run")
	var after trafficAnswer
	waitFor(t, 90*time.Second, "the data to be served again", func() error {
		if err := tryGetJSON(base, "/v1/traffic?step=1h&"+rangeQuery(from, cut), &after); err != nil {
			return err
		}
		if after.Total.PV < before.Total.PV {
			return fmt.Errorf("pv %d after the restart, %d before", after.Total.PV, before.Total.PV)
		}
		return nil
	})
	stop(second)
	t.Logf("pv of the history range: %d before the restart, %d after", before.Total.PV, after.Total.PV)
	// Not generated twice: the history range holds what it held.
	if after.Total.PV > before.Total.PV*11/10 {
		t.Errorf("pv %d after the restart, %d before: history generated again?", after.Total.PV, before.Total.PV)
	}
	if _, err := os.Stat(filepath.Join(data, demoMarkerFile)); err != nil {
		t.Errorf("demo marker: %v", err)
	}
}
