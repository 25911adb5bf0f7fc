package serving

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/browser"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestDashboardInBrowser renders the dashboard in headless Chromium against
// a real server over the embedded store, and reads the figures back from
// the DOM: the page must show what the test computed from its own events.
//
// The data: batch has recomputed 11:00-12:00 (horizon 12:00); speed holds
// 12:00-12:30 with exact hot summaries and 12:30-13:00 with small ones, so
// that the page shows both exact counts and error bounds.
func TestDashboardInBrowser(t *testing.T) {
	chromium := lookChromium(t)
	spec := func(from, to time.Time, perPane int, partitions int32, seed uint64) genSpec {
		return genSpec{from: from, to: to, perPane: perPane, partitions: partitions, terms: 25, prefix: "q", users: 60, ips: 70, seed: seed}
	}
	t1230 := horizon.Add(30 * time.Minute)
	batch := gen(spec(horizon.Add(-time.Hour), horizon, 10, 1, 21))
	speedExact := gen(spec(horizon, t1230, 12, 3, 22))
	speedSmall := gen(spec(t1230, t13, 30, 3, 23))

	db := testDB(t)
	now := time.Now().UTC().Truncate(time.Second)
	writeBatchLayer(t, db, batch, now)
	writeSpeed(t, db, speedExact, 0, now)
	writeSpeed(t, db, speedSmall, 3, now)
	lateDropped := writeCheckpoints(t, db, 3, now)
	writeLakeSummary(t, db, 123456789, 4242, 7, now)
	// The broker holds 100p+100 records on partition p (lag 10 each).
	broker := testkit.BrokerWith(t, topic, 3, map[int32]int{0: 100, 1: 200, 2: 300})
	srv, base := startServer(t, db, BrokerEndOffsets(broker, topic))
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A server over an empty store that has not refreshed yet, and a page
	// whose API drops every connection.
	_, emptyBase := startServer(t, testDB(t))
	// After testDB(t) above: it drops the database of the test's name,
	// the same as db's, and the alerts are read per request, not cached.
	writeAlertDocs(t, db)
	downBase := startUnreachableAPI(t, srv.Handler())

	pinned := func(rng string, to time.Time) string { return "/?range=" + rng + "&to=" + to.Format(time.RFC3339) }
	cases := []struct {
		name  string
		url   string
		check func(t *testing.T, d page)
	}{
		{"BatchAndExactSpeed", base + pinned("6h", t1230), func(t *testing.T, d page) {
			tr := truthOf(batch, t10, t1230).add(truthOf(speedExact, t10, t1230))
			if int(tr.pv) != len(batch)+len(speedExact) {
				t.Fatalf("fixture: %d events in range, want all %d", tr.pv, len(batch)+len(speedExact))
			}
			d.wantValue(t, "total-pv", strconv.FormatInt(tr.pv, 10), thousands(tr.pv))
			top := tr.top(2)
			if top[0].Count == top[1].Count {
				t.Fatalf("fixture: top terms tie at %d; pick another seed", top[0].Count)
			}
			d.wantAttrs(t, "hot-row-1", map[string]string{"data-rank": "1", "data-term": top[0].Term,
				"data-count": strconv.FormatInt(top[0].Count, 10), "data-err": "0"})
			d.wantText(t, "hot-row-1", "1 "+top[0].Term+" "+thousands(top[0].Count)+" exact")
			d.wantValue(t, "horizon", "2026-11-20T12:00:00Z", "2026-11-20 12:00 UTC")
			d.wantValue(t, "status-horizon", "2026-11-20T12:00:00Z", "2026-11-20 12:00 UTC")
			if !strings.Contains(string(d), `class="horizon" data-horizon="2026-11-20T12:00:00Z"`) {
				t.Error("the chart has no horizon line at 12:00")
			}
			d.wantAttrs(t, "chart-split", map[string]string{"data-split": "both"})
			// The series: 72 buckets of 5 minutes whose PV add up to the total.
			rows := d.rows("series-body")
			if sum := sumAttr(rows, "data-pv"); len(rows) != 72 || sum != tr.pv {
				t.Errorf("series: %d buckets with PV summing to %d, want 72 and %d", len(rows), sum, tr.pv)
			}
			// The views' tables, built from GET /v1/views: the paths
			// view's, every request of the fixture on /search.
			d.wantAttrs(t, "paths-row-0", map[string]string{"data-path": "/search", "data-count": strconv.FormatInt(tr.pv, 10)})
			d.wantAttrs(t, "statuses-row-0", map[string]string{"data-code": "200", "data-class": "2xx", "data-count": strconv.FormatInt(tr.pv, 10)})
			d.wantValue(t, "status-late-dropped", strconv.FormatInt(lateDropped, 10), thousands(lateDropped))
			d.wantAttrs(t, "lake-size", map[string]string{"data-bytes": "123456789", "data-rows": "4242", "data-files": "7"})
			d.wantText(t, "lake-size", "118 MiB · 4,242 rows · 7 files")
			if n := len(d.rows("partitions-body")); n != 3 {
				t.Errorf("%d partition rows, want 3", n)
			}
			d.wantAttrs(t, "partition-2", map[string]string{"data-lag": "10", "data-late-dropped": "3"})
			// Levels per instance: one row per instance, each ERROR count
			// the test's own; the first instance with errors in name order
			// shows its count, highlighted.
			if rows := d.rows("levels-body"); len(rows) != len(tr.levels) {
				t.Errorf("%d levels rows, want %d instances", len(rows), len(tr.levels))
			}
			insts := slices.Sorted(maps.Keys(tr.levels))
			for _, inst := range insts {
				d.wantAttrs(t, "levels-row-"+inst, map[string]string{"data-instance": inst,
					"data-error": strconv.FormatInt(tr.levels[inst]["ERROR"], 10)})
			}
			i := slices.IndexFunc(insts, func(inst string) bool { return tr.levels[inst]["ERROR"] > 0 })
			if i < 0 {
				t.Fatal("fixture: no instance has an ERROR event")
			}
			inst := insts[i]
			n := tr.levels[inst]["ERROR"]
			if cell := regexp.MustCompile(`id="levels-row-` + regexp.QuoteMeta(inst) + `"[^>]*><td[^>]*>[^<]*</td><td class="([^"]*)">([^<]*)</td>`).
				FindStringSubmatch(string(d)); cell == nil || cell[2] != thousands(n) || !strings.Contains(cell[1], "error") {
				t.Errorf("row of %s: ERROR cell %q, want %q highlighted", inst, cell, thousands(n))
			}
			d.wantAttrs(t, "levels-exact", map[string]string{"data-exact": "false"})
			// Clusters: five macro-clusters (the panel asks k=5) whose
			// events, outliers and events without features add up to the
			// range's PV; one bubble per cluster with the row's count.
			crows := d.rows("clusters-body")
			csum := sumAttr(crows, "data-count")
			for i, r := range crows {
				if got := d.attr(fmt.Sprintf("cluster-dot-%d", i), "data-count"); num(r["data-count"]) > 0 && got != r["data-count"] {
					t.Errorf("cluster %d: bubble count %q, row %q", i, got, r["data-count"])
				}
				if d.attr(fmt.Sprintf("cluster-line-%d", i), "d") == "" {
					t.Errorf("cluster %d: no line over time", i)
				}
			}
			outl, miss := num(d.attr("clusters-outliers", "data-value")), num(d.attr("clusters-missing", "data-value"))
			if len(crows) != 5 || csum+outl+miss != tr.pv {
				t.Errorf("clusters: %d rows, %d events + %d outliers + %d without features, want 5 rows adding up to pv %d", len(crows), csum, outl, miss, tr.pv)
			}
			d.wantAttrs(t, "clusters-exact", map[string]string{"data-exact": "false"})
			// Alerts: the firing one first, then the one resolved in the
			// range with its failed notification; not the one resolved
			// before the range.
			if rows := d.rows("alerts-body"); len(rows) != 2 || rows[0]["data-state"] != "firing" ||
				rows[1]["data-state"] != "resolved" || rows[1]["data-failed"] != "1" || rows[0]["data-rule"] != "InstanceErrorBurst" {
				t.Errorf("alert rows %v, want the firing InstanceErrorBurst then the resolved one with a failed notification", rows)
			}
			d.wantAttrs(t, "alerts-active", map[string]string{"data-active": "1"})
			d.wantText(t, "alerts-body", "db-2 logged 1,234 ERROR lines")
			d.wantText(t, "alerts-body", "webhook resolved: failed")
			d.wantAttrs(t, "conn", map[string]string{"data-state": "ok"})
			d.wantHidden(t, "banner", true)
		}},
		{"PatternsErrorsNewKindExample", base + pinned("1h", t13) + "&level=ERROR&pattern=" +
			patterns.TemplateID("disk <*> full on volume <*>").String(), func(t *testing.T, d page) {
			// The patterns panel, filtered to ERROR, with the new kind of
			// error (from 12:30) selected: each row's count is the test's
			// own, the new kind is marked new (none in 11:00-12:00), and its
			// example line is shown.
			evs := append(append([]event.Event{}, speedExact...), speedSmall...)
			want := patternTruth(evs, horizon, t13, "ERROR", "")
			before := patternTruth(batch, horizon.Add(-time.Hour), horizon, "ERROR", "")
			if before["disk <*> full on volume <*>"] != 0 || len(before) == 0 {
				t.Fatalf("fixture: ERROR patterns before the range %v; want some, and not the new kind", before)
			}
			rows := d.rows("patterns-body")
			if len(rows) != len(want) {
				t.Errorf("%d pattern rows, want %d: %v", len(rows), len(want), rows)
			}
			var total int64
			for _, n := range want {
				total += n
			}
			d.wantAttrs(t, "patterns-exact", map[string]string{"data-total": strconv.FormatInt(total, 10), "data-exact": "false"})
			for _, r := range rows {
				if c := strconv.FormatInt(want[r["data-template"]], 10); r["data-count"] != c {
					t.Errorf("pattern %q: count %s, want %s", r["data-template"], r["data-count"], c)
				}
				isNew := before[r["data-template"]] == 0
				if r["data-new"] != strconv.FormatBool(isNew) {
					t.Errorf("pattern %q: new %s", r["data-template"], r["data-new"])
				}
				if len(strings.Split(r["data-series"], ",")) != 60 {
					t.Errorf("pattern %q: sparkline of %q, want 60 points", r["data-template"], r["data-series"])
				}
			}
			spark := regexp.MustCompile(`<svg class="spark"[^>]*><polyline points="([^"]*)"`).FindAllStringSubmatch(string(d), -1)
			if len(spark) != len(rows) {
				t.Errorf("%d sparklines drawn, want one per pattern row (%d)", len(spark), len(rows))
			}
			for _, m := range spark {
				if n := len(strings.Fields(m[1])); n != 60 {
					t.Errorf("sparkline of %d points, want 60: %q", n, m[1])
				}
			}
			if want["disk <*> full on volume <*>"] == 0 {
				t.Fatal("fixture: no ERROR line of the new kind")
			}
			d.wantAttrs(t, "patterns-example", map[string]string{"data-pattern": patterns.TemplateID("disk <*> full on volume <*>").String()})
			d.wantHidden(t, "patterns-example", false)
			d.wantText(t, "patterns-example-line", "disk ")
			d.wantText(t, "patterns-example-line", " full on volume ")
		}},
		{"SpeedWithErrorBounds", base + pinned("1h", t13), func(t *testing.T, d page) {
			tr := truthOf(speedExact, horizon, t13).add(truthOf(speedSmall, horizon, t13))
			d.wantValue(t, "total-pv", strconv.FormatInt(tr.pv, 10), thousands(tr.pv))
			d.wantAttrs(t, "hot-exact", map[string]string{"data-exact": "false"})
			if b, _ := strconv.Atoi(d.attr("hot-exact", "data-error-bound")); b <= 0 {
				t.Errorf("hot error bound %d, want > 0 with summaries of 3 terms", b)
			}
			// Every shown count lies within its error of the truth, and a
			// term with an error shows it.
			rows := d.rows("hot-body")
			if len(rows) == 0 {
				t.Fatal("no hot rows")
			}
			withErr := 0
			for _, r := range rows {
				c, e := num(r["data-count"]), num(r["data-err"])
				if truth := tr.terms[r["data-term"]]; truth > c || truth < c-e {
					t.Errorf("term %s: shown %d ± %d, true count %d", r["data-term"], c, e, truth)
				}
				if e > 0 {
					withErr++
					d.wantText(t, r["id"], "± "+thousands(e))
				}
			}
			if withErr == 0 {
				t.Error("no hot term shows an error bound")
			}
			d.wantAttrs(t, "chart-split", map[string]string{"data-split": "speed"})
		}},
		{"EmptyStore", emptyBase + "/", func(t *testing.T, d page) {
			d.wantValue(t, "total-pv", "0", "0")
			d.wantHidden(t, "chart-empty", false)
			d.wantText(t, "chart-empty", "No traffic in this range yet")
			d.wantHidden(t, "hot-empty", false)
			d.wantHidden(t, "partitions-empty", false)
			d.wantValue(t, "horizon", "", "none yet")
			d.wantAttrs(t, "banner", map[string]string{"data-kind": "info"})
			d.wantText(t, "banner", "has not loaded its views")
		}},
		{"APIUnreachable", downBase + "/", func(t *testing.T, d page) {
			d.wantAttrs(t, "conn", map[string]string{"data-state": "error"})
			d.wantAttrs(t, "banner", map[string]string{"data-kind": "error"})
			d.wantHidden(t, "banner", false)
			d.wantText(t, "banner", "Cannot reach the loglambda API")
			d.wantValue(t, "total-pv", "", "–")
			d.wantText(t, "chart-empty", "the API did not answer")
		}},
	}
	t.Run("Timings", func(t *testing.T) {
		// The first case's page in real time (render's virtual time has
		// its own clock): every panel's request, with its Resource Timing
		// logged for people (no assertion on time: the machine may be
		// shared; ci/scale.sh prints the same over 24 h of the demo).
		panels := []string{"/v1/window", "/v1/status", "/v1/traffic", "/v1/hot", "/v1/levels", "/v1/alerts", "/v1/patterns", "/v1/clusters", "/v1/paths"}
		ts, err := browser.ResourceTimings(testkit.Context(t, 2*time.Minute), chromium, cases[0].url, "/v1/", panels, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var line []string
		for _, p := range panels {
			i := slices.IndexFunc(ts, func(x browser.Timing) bool { return strings.Contains(x.URL, p+"?") || strings.HasSuffix(x.URL, p) })
			if i < 0 {
				t.Errorf("the page made no request to %s: %v", p, ts)
				continue
			}
			line = append(line, fmt.Sprintf("%s %.1f ms (server %.1f)", p, ts[i].Duration, ts[i].Wait))
		}
		t.Logf("API requests of %s (Resource Timing, the first of each): %s", cases[0].url, strings.Join(line, ", "))
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := render(t, chromium, c.url)
			c.check(t, d)
			if t.Failed() {
				t.Logf("DOM of %s:\n%s", c.url, d.main())
			}
			if dir := os.Getenv("LOGLAMBDA_DASHBOARD_SCREENSHOTS"); dir != "" {
				screenshot(t, chromium, c.url, filepath.Join(dir, c.name+".png"))
			}
		})
	}
}

// writeAlertDocs writes three alerts as the engine keeps them in the
// alerts collection (field names from ARCHITECTURE.md's contract, not the
// Go type): one firing, one resolved at 12:10 whose resolution failed to
// reach the webhook, one resolved at 05:00, before every range shown.
func writeAlertDocs(t *testing.T, db *mongo.Database) {
	t.Helper()
	at := func(h, m int) time.Time {
		return time.Date(horizon.Year(), horizon.Month(), horizon.Day(), h, m, 0, 0, time.UTC)
	}
	doc := func(id, state string, since, resolved time.Time, inst string, deliveries bson.A) bson.M {
		d := bson.M{"_id": id, "kind": "alert", "rule": "InstanceErrorBurst", "fingerprint": id[len(id)-4:],
			"labels":      bson.M{"alertname": "InstanceErrorBurst", "instance": inst, "level": "ERROR"},
			"annotations": bson.M{"summary": inst + " logged 1,234 ERROR lines in 5m"},
			"state":       state, "value": 1234.0, "active_since": since, "fired_at": since, "deliveries": deliveries, "updated": since}
		if !resolved.IsZero() {
			d["resolved_at"] = resolved
		}
		return d
	}
	sent := bson.M{"notifier": "webhook", "status": "firing", "state": "sent", "attempts": 1}
	failed := bson.M{"notifier": "webhook", "status": "resolved", "state": "failed", "attempts": 8, "last_error": "connection refused"}
	docs := []any{
		doc("alert|a|f001", "firing", at(12, 20), time.Time{}, "db-2", bson.A{sent}),
		doc("alert|a|f002", "resolved", at(11, 50), at(12, 10), "db-1", bson.A{sent, failed}),
		doc("alert|a|f003", "resolved", at(4, 50), at(5, 0), "db-3", bson.A{sent}),
	}
	if _, err := db.Collection("alerts").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}

// writeCheckpoints writes speed's checkpoint of n partitions: partition p
// has applied through offset 100p+89 of 100p+100 records (lag 10) and
// dropped p+1 late events. It returns the late events of all partitions.
func writeCheckpoints(t *testing.T, db *mongo.Database, n int, now time.Time) int64 {
	t.Helper()
	var late int64
	for p := 0; p < n; p++ {
		doc := bson.M{"_id": fmt.Sprintf("%s|p%d", topic, p), "topic": topic, "partition": int32(p),
			"offset": int64(100*p + 89), "high_watermark": int64(100*p + 100), "watermark": t13.Add(-2 * time.Minute),
			"max_event_time": t13, "late_dropped": int64(p + 1), "parse_errors": int64(0), "events": int64(1000), "updated": now}
		if _, err := db.Collection(collections.CheckpointCollection).InsertOne(context.Background(), doc); err != nil {
			t.Fatal(err)
		}
		late += int64(p + 1)
	}
	return late
}

func writeLakeSummary(t *testing.T, db *mongo.Database, bytes, rows, files int64, now time.Time) {
	t.Helper()
	doc := bson.M{"_id": collections.LakeDocID(topic), "topic": topic, "bytes": bytes, "rows": rows, "files": files,
		"parse_errors": int64(0), "lost_offsets": int64(0), "updated": now}
	if _, err := db.Collection(collections.MetaCollection).InsertOne(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
}

// startUnreachableAPI serves the dashboard's files from h but drops every
// /v1 connection without an answer, as a dead server behind a proxy would.
func startUnreachableAPI(t *testing.T, h http.Handler) string {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			h.ServeHTTP(w, r)
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		conn.Close()
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}

// lookChromium returns Debian's chromium, skipping the test when it is
// not installed.
func lookChromium(t *testing.T) string {
	t.Helper()
	return testkit.Tool(t, "chromium", "render the dashboard")
}

// chromiumArgs are the flags of a headless, offline, throwaway browser.
func chromiumArgs(profile string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
		"--window-size=1280,900", "--virtual-time-budget=10000"}
}

// runChromium runs chromium with a fresh profile and returns its stdout.
func runChromium(t *testing.T, chromium string, args ...string) []byte {
	t.Helper()
	profile, err := os.MkdirTemp("", "dashboard-chromium")
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: a helper process of chromium may still be writing
	// there as it exits, and a leftover profile is not the test's failure.
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := testkit.CommandContext(ctx, chromium, append(chromiumArgs(profile), args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, lastLines(stderr.String(), 20))
	}
	return stdout.Bytes()
}

// render loads url in headless Chromium, lets the page run for ten seconds
// of virtual time (two polls), and returns the DOM it ends up with.
func render(t *testing.T, chromium, url string) page {
	t.Helper()
	out := runChromium(t, chromium, "--dump-dom", url)
	if !bytes.Contains(out, []byte(`id="total-pv"`)) {
		t.Fatalf("chromium --dump-dom %s: no dashboard in %d bytes of output", url, len(out))
	}
	return page(out)
}

func screenshot(t *testing.T, chromium, url, file string) {
	t.Helper()
	runChromium(t, chromium, "--screenshot="+file, "--window-size=1280,1400", url)
	t.Logf("screenshot of %s in %s", url, file)
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// thousands formats n as the page does (en-US grouping).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// page is a DOM serialized by Chromium, read through the stable ids and
// data attributes the dashboard gives its figures.
type page string

var attrRe = regexp.MustCompile(`([a-zA-Z-]+)="([^"]*)"`)

// element returns the start tag, the tag name and the end of the start tag
// of the element with the given id.
func (d page) element(id string) (tag, name string, end int, ok bool) {
	i := strings.Index(string(d), ` id="`+id+`"`)
	if i < 0 {
		return "", "", 0, false
	}
	start := strings.LastIndexByte(string(d[:i]), '<')
	end = i + strings.IndexByte(string(d[i:]), '>') + 1
	tag = string(d[start:end])
	name = strings.FieldsFunc(tag[1:], func(r rune) bool { return r == ' ' || r == '>' })[0]
	return tag, name, end, true
}

func (d page) attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

func (d page) attr(id, name string) string {
	tag, _, _, _ := d.element(id)
	return d.attrs(tag)[name]
}

var tagRe = regexp.MustCompile(`<[^>]*>`)

// text is the element's text, tags dropped and spaces collapsed; it
// assumes the element holds no element of its own kind.
func (d page) text(id string) (string, bool) {
	_, name, end, ok := d.element(id)
	if !ok {
		return "", false
	}
	close := strings.Index(string(d[end:]), "</"+name+">")
	if close < 0 {
		return "", false
	}
	s := tagRe.ReplaceAllString(string(d[end:end+close]), " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " "), true
}

// num is a count from a data-* attribute; 0 when absent.
func num(attr string) int64 {
	n, _ := strconv.ParseInt(attr, 10, 64)
	return n
}

// sumAttr adds up a count attribute over rows.
func sumAttr(rows []map[string]string, attr string) int64 {
	var sum int64
	for _, r := range rows {
		sum += num(r[attr])
	}
	return sum
}

// rows returns the attributes of the rows of a table body.
func (d page) rows(bodyID string) []map[string]string {
	_, _, end, ok := d.element(bodyID)
	if !ok {
		return nil
	}
	body := string(d[end:])
	body = body[:strings.Index(body, "</tbody>")]
	var out []map[string]string
	for _, tag := range regexp.MustCompile(`<tr[^>]*>`).FindAllString(body, -1) {
		out = append(out, d.attrs(tag))
	}
	return out
}

func (d page) wantValue(t *testing.T, id, value, text string) {
	t.Helper()
	d.wantAttrs(t, id, map[string]string{"data-value": value})
	if got, _ := d.text(id); got != text {
		t.Errorf("#%s shows %q, want %q", id, got, text)
	}
}

func (d page) wantAttrs(t *testing.T, id string, want map[string]string) {
	t.Helper()
	tag, _, _, ok := d.element(id)
	if !ok {
		t.Errorf("no element #%s", id)
		return
	}
	got := d.attrs(tag)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("#%s %s=%q, want %q", id, k, got[k], v)
		}
	}
}

func (d page) wantText(t *testing.T, id, sub string) {
	t.Helper()
	got, ok := d.text(id)
	if !ok || !strings.Contains(got, sub) {
		t.Errorf("#%s shows %q, want it to contain %q", id, got, sub)
	}
}

func (d page) wantHidden(t *testing.T, id string, hidden bool) {
	t.Helper()
	tag, _, _, ok := d.element(id)
	if !ok {
		t.Errorf("no element #%s", id)
		return
	}
	if got := regexp.MustCompile(`\shidden(=""|\s|>)`).MatchString(tag); got != hidden {
		t.Errorf("#%s hidden %v, want %v: %s", id, got, hidden, tag)
	}
}

// main is the page's main content, for failure logs.
func (d page) main() string {
	s := string(d)
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	return s[:min(len(s), 6000)]
}
