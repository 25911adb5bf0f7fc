package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/event"
)

// The scenario shared by the query tests: batch has recomputed 10:00-12:00
// (horizon 12:00); speed has 12:00-13:00 from four partitions, and also
// still holds 11:00-12:00 with different content, which must never be read.
var (
	t10     = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	horizon = t10.Add(2 * time.Hour)
	t13     = t10.Add(3 * time.Hour)
)

const (
	topic     = "logs"
	speedCap  = 8 // small, so that merged speed summaries carry error bounds
	uvTolPerc = 2.0
)

type scenario struct {
	batch, speed, stale []event.Event
	url                 string
	srv                 *Server
	db                  *mongo.Database
}

func newScenario(t *testing.T) *scenario {
	t.Helper()
	sc := &scenario{
		batch: gen(genSpec{from: t10, to: horizon, perPane: 40, partitions: 4, terms: 30, prefix: "t", users: 300, ips: 400, seed: 1}),
		speed: gen(genSpec{from: horizon, to: t13, perPane: 60, partitions: 4, terms: 60, prefix: "t", users: 300, ips: 400, seed: 2}),
		stale: gen(genSpec{from: horizon.Add(-time.Hour), to: horizon, perPane: 25, partitions: 4, terms: 10, prefix: "stale", users: 50, ips: 50, seed: 3}),
		db:    testDB(t),
	}
	now := time.Now().UTC()
	writeBatchLayer(t, sc.db, sc.batch, now)
	writeSpeed(t, sc.db, sc.speed, speedCap, now)
	writeSpeed(t, sc.db, sc.stale, speedCap, now)
	sc.srv, sc.url = startServer(t, sc.db)
	if err := sc.srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestQueries runs the query tests over one scenario: writing it to the
// embedded store takes seconds, reading it is what is tested.
func TestQueries(t *testing.T) {
	sc := newScenario(t)
	t.Run("HotBeforeHorizonIsExact", func(t *testing.T) { testHotBeforeHorizonIsExact(t, sc) })
	t.Run("HotAfterHorizonWithinBound", func(t *testing.T) { testHotAfterHorizonWithinBound(t, sc) })
	t.Run("HotStraddlingHorizonCountsEachPaneOnce", func(t *testing.T) { testHotStraddlingHorizonCountsEachPaneOnce(t, sc) })
	t.Run("Traffic", func(t *testing.T) { testTraffic(t, sc) })
	t.Run("TrafficEmptyBucketsAndAlignment", func(t *testing.T) { testTrafficEmptyBucketsAndAlignment(t, sc) })
	t.Run("DefaultRangeIsLastHour", func(t *testing.T) { testDefaultRangeIsLastHour(t, sc) })
	t.Run("Levels", func(t *testing.T) { testLevels(t, sc) })
	t.Run("LevelsEmptyBucketsAndAlignment", func(t *testing.T) { testLevelsEmptyBucketsAndAlignment(t, sc) })
	t.Run("Patterns", func(t *testing.T) { testPatterns(t, sc) })
	t.Run("PatternsBadParams", func(t *testing.T) { testPatternsBadParams(t, sc) })
}

// startServer starts a server over db on a loopback listener, with its
// clock at 13:00 so that default ranges are reproducible.
func startServer(t testing.TB, db *mongo.Database, opts ...Opt) (*Server, string) {
	t.Helper()
	srv, err := New(db, append([]Opt{Topic(topic), Now(func() time.Time { return t13 })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

// get fetches path and decodes the JSON body into v, returning the status.
func get(t testing.TB, base, path string, v any) int {
	t.Helper()
	resp, body := testkit.Get(t, base+path)
	if v != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: decode %q: %v", path, body, err)
		}
	}
	return resp.StatusCode
}

// Wire shapes, decoded independently of the server's own types.
type hotResp struct {
	From, To string
	Terms    []struct {
		Term       string
		Count, Err int64
	}
	ErrorBound   int64   `json:"error_bound"`
	BatchHorizon *string `json:"batch_horizon"`
	Exact        bool
}

type counts struct{ PV, UV, IPs int64 }

type trafficResp struct {
	From, To, Step string
	Series         []struct {
		T string
		counts
	}
	Total        counts
	BatchHorizon *string `json:"batch_horizon"`
	Exact        bool
}

func q(from, to time.Time, kv ...string) string {
	v := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

// assertUV checks an estimate against the exact distinct count.
func assertUV(t *testing.T, what string, got int64, want int) {
	t.Helper()
	if d := math.Abs(float64(got)-float64(want)) * 100 / math.Max(float64(want), 1); d > uvTolPerc {
		t.Errorf("%s = %d, want %d within %.0f%% (off by %.2f%%)", what, got, want, uvTolPerc, d)
	}
}

// assertHotBounds checks every listed term against the truth within its
// error, and every unlisted term against the error bound (the answer must
// list all terms the summary holds, so call it with a large k).
func assertHotBounds(t *testing.T, got hotResp, tr truth) {
	t.Helper()
	listed := map[string]bool{}
	for _, tc := range got.Terms {
		listed[tc.Term] = true
		n := tr.terms[tc.Term]
		if n > tc.Count || n < tc.Count-tc.Err {
			t.Errorf("term %s: count %d err %d, true count %d outside [count-err, count]", tc.Term, tc.Count, tc.Err, n)
		}
		if tc.Err > got.ErrorBound {
			t.Errorf("term %s: err %d above the error bound %d", tc.Term, tc.Err, got.ErrorBound)
		}
	}
	for term, n := range tr.terms {
		if !listed[term] && n > got.ErrorBound {
			t.Errorf("term %s (true count %d) missing although above the error bound %d", term, n, got.ErrorBound)
		}
	}
}

func testHotBeforeHorizonIsExact(t *testing.T, sc *scenario) {
	cases := []struct {
		name     string
		from, to time.Time
		k        int
	}{
		{"all batch, top 10", t10, horizon, 10},
		{"all batch, every term", t10, horizon, 1000},
		{"panes then an hour block", t10.Add(17 * time.Minute), horizon, 1000},
		{"panes only", t10.Add(17 * time.Minute), t10.Add(43 * time.Minute), 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got hotResp
			if code := get(t, sc.url, "/v1/hot"+q(c.from, c.to, "k", fmt.Sprint(c.k)), &got); code != 200 {
				t.Fatalf("status %d", code)
			}
			want := truthOf(sc.batch, c.from, c.to).top(c.k)
			if len(got.Terms) != len(want) {
				t.Fatalf("%d terms, want %d: %+v", len(got.Terms), len(want), got.Terms)
			}
			for i, w := range want {
				if g := got.Terms[i]; g.Term != w.Term || g.Count != w.Count || g.Err != 0 {
					t.Errorf("term %d = %+v, want %+v", i, g, w)
				}
			}
			if !got.Exact || got.ErrorBound != 0 {
				t.Errorf("exact %v error_bound %d, want exact with bound 0", got.Exact, got.ErrorBound)
			}
			if got.BatchHorizon == nil || *got.BatchHorizon != "2026-11-20T12:00:00Z" {
				t.Errorf("batch_horizon %v, want 2026-11-20T12:00:00Z", got.BatchHorizon)
			}
		})
	}
}

func testHotAfterHorizonWithinBound(t *testing.T, sc *scenario) {
	for _, r := range [][2]time.Time{{horizon, t13}, {horizon.Add(13 * time.Minute), horizon.Add(47 * time.Minute)}} {
		var got hotResp
		if code := get(t, sc.url, "/v1/hot"+q(r[0], r[1], "k", "1000"), &got); code != 200 {
			t.Fatalf("status %d", code)
		}
		if got.Exact {
			t.Errorf("%v: exact from speed", r)
		}
		assertHotBounds(t, got, truthOf(sc.speed, r[0], r[1]))
		t.Logf("%s-%s: %d terms, error bound %d", r[0].Format("15:04"), r[1].Format("15:04"), len(got.Terms), got.ErrorBound)
	}
}

func testHotStraddlingHorizonCountsEachPaneOnce(t *testing.T, sc *scenario) {
	from := horizon.Add(-time.Hour)
	var got hotResp
	if code := get(t, sc.url, "/v1/hot"+q(from, t13, "k", "1000"), &got); code != 200 {
		t.Fatalf("status %d", code)
	}
	tr := truthOf(sc.batch, from, horizon).add(truthOf(sc.speed, horizon, t13))
	assertHotBounds(t, got, tr)
	for _, tc := range got.Terms {
		if strings.HasPrefix(tc.Term, "stale") {
			t.Errorf("term %s comes from speed panes before the horizon", tc.Term)
		}
	}
	if got.Exact {
		t.Error("exact although half the range is speed")
	}
}

func testTraffic(t *testing.T, sc *scenario) {
	cases := []struct {
		name     string
		from, to time.Time
		step     string
		truth    func(from, to time.Time) truth
		exact    bool
		// exactUV: every bucket is one batch pane, so its UV is exact.
		exactUV bool
	}{
		{"batch per pane", t10.Add(30 * time.Minute), horizon, "", func(f, to time.Time) truth { return truthOf(sc.batch, f, to) }, true, true},
		{"batch per 15m", t10, horizon, "15m", func(f, to time.Time) truth { return truthOf(sc.batch, f, to) }, true, false},
		{"speed per pane", horizon, t13, "1m", func(f, to time.Time) truth { return truthOf(sc.speed, f, to) }, false, false},
		{"speed per hour", horizon, t13, "1h", func(f, to time.Time) truth { return truthOf(sc.speed, f, to) }, false, false},
		// sc.batch ends and sc.speed starts at the horizon, so their truths
		// over any range are the batch part and the speed part.
		{"straddling per 20m", horizon.Add(-time.Hour), t13, "20m", func(f, to time.Time) truth {
			return truthOf(sc.batch, f, to).add(truthOf(sc.speed, f, to))
		}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got trafficResp
			if code := get(t, sc.url, "/v1/traffic"+q(c.from, c.to, "step", c.step), &got); code != 200 {
				t.Fatalf("status %d", code)
			}
			step := wantBuckets(t, c.from, c.to, c.step, len(got.Series))
			for i, pt := range got.Series {
				b := wantBucketAt(t, c.from, step, i, pt.T)
				tr := c.truth(b, b.Add(step))
				if pt.PV != tr.pv {
					t.Errorf("bucket %s: pv %d, want %d", pt.T, pt.PV, tr.pv)
				}
				if c.exactUV && (pt.UV != int64(len(tr.uv)) || pt.IPs != int64(len(tr.ips))) {
					t.Errorf("bucket %s: uv %d ips %d, want exactly %d %d", pt.T, pt.UV, pt.IPs, len(tr.uv), len(tr.ips))
				}
				assertUV(t, "bucket "+pt.T+" uv", pt.UV, len(tr.uv))
				assertUV(t, "bucket "+pt.T+" ips", pt.IPs, len(tr.ips))
			}
			tr := c.truth(c.from, c.to)
			if got.Total.PV != tr.pv {
				t.Errorf("total pv %d, want %d", got.Total.PV, tr.pv)
			}
			assertUV(t, "total uv", got.Total.UV, len(tr.uv))
			assertUV(t, "total ips", got.Total.IPs, len(tr.ips))
			if got.Exact != c.exact {
				t.Errorf("exact %v, want %v", got.Exact, c.exact)
			}
		})
	}
}

// wantBuckets fails the test unless a series answer of [from, to) asked
// by step (empty: the pane, a minute) has n buckets, one per step; it
// returns the step.
func wantBuckets(t *testing.T, from, to time.Time, step string, n int) time.Duration {
	t.Helper()
	d := time.Minute
	if step != "" {
		var err error
		if d, err = time.ParseDuration(step); err != nil {
			t.Fatal(err)
		}
	}
	if want := int(to.Sub(from) / d); n != want {
		t.Fatalf("%d buckets, want %d", n, want)
	}
	return d
}

// wantBucketAt checks that the i-th bucket of a series from from by step
// starts at its place on the grid (got, RFC 3339) and returns that start.
func wantBucketAt(t *testing.T, from time.Time, step time.Duration, i int, got string) time.Time {
	t.Helper()
	b := from.Add(time.Duration(i) * step)
	if got != b.Format(time.RFC3339) {
		t.Errorf("bucket %d at %s, want %s", i, got, b.Format(time.RFC3339))
	}
	return b
}

// getAligned asks path (a view with a series) from 09:00:10 to 10:05:30
// by 30m, where 09:00-10:00 has no data, decoding the answer into v, and
// checks the range is widened to whole panes and the series has every
// bucket, empty ones included, on the step grid.
func getAligned(t *testing.T, sc *scenario, path string, v any) {
	t.Helper()
	from, to := t10.Add(-time.Hour+10*time.Second), t10.Add(5*time.Minute+30*time.Second)
	var frame struct {
		From, To string
		Series   []struct{ T string }
	}
	for _, dst := range []any{v, &frame} {
		if code := get(t, sc.url, path+q(from, to, "step", "30m"), dst); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if frame.From != "2026-11-20T09:00:00Z" || frame.To != "2026-11-20T10:06:00Z" {
		t.Errorf("range %s-%s, want widened to whole panes 09:00-10:06", frame.From, frame.To)
	}
	want := []string{"2026-11-20T09:00:00Z", "2026-11-20T09:30:00Z", "2026-11-20T10:00:00Z"}
	if len(frame.Series) != len(want) {
		t.Fatalf("series %+v, want buckets %v", frame.Series, want)
	}
	for i, w := range want {
		if frame.Series[i].T != w {
			t.Errorf("bucket %d at %s, want %s", i, frame.Series[i].T, w)
		}
	}
}

func testTrafficEmptyBucketsAndAlignment(t *testing.T, sc *scenario) {
	var got trafficResp
	getAligned(t, sc, "/v1/traffic", &got)
	if got.Series[0].PV != 0 || got.Series[1].PV != 0 {
		t.Errorf("empty buckets have pv %d %d", got.Series[0].PV, got.Series[1].PV)
	}
	if want := truthOf(sc.batch, t10, t10.Add(6*time.Minute)).pv; got.Series[2].PV != want || got.Total.PV != want {
		t.Errorf("last bucket pv %d total %d, want %d", got.Series[2].PV, got.Total.PV, want)
	}
}

func testDefaultRangeIsLastHour(t *testing.T, sc *scenario) {
	var got trafficResp
	if code := get(t, sc.url, "/v1/traffic?step=1h", &got); code != 200 {
		t.Fatalf("status %d", code)
	}
	if got.From != "2026-11-20T12:00:00Z" || got.To != "2026-11-20T13:00:00Z" {
		t.Errorf("default range %s-%s, want the hour before now (13:00)", got.From, got.To)
	}
	if want := truthOf(sc.speed, horizon, t13).pv; got.Total.PV != want {
		t.Errorf("pv %d, want %d", got.Total.PV, want)
	}
	// Before the horizon, where batch holds every term exactly.
	var hot hotResp
	get(t, sc.url, "/v1/hot?to="+horizon.Format(time.RFC3339), &hot)
	if hot.From != "2026-11-20T11:00:00Z" {
		t.Errorf("default from %s, want an hour before to", hot.From)
	}
	if len(hot.Terms) != defaultK {
		t.Errorf("%d terms, want the default %d", len(hot.Terms), defaultK)
	}
}
