package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/batch"
	"github.com/loglambda/loglambda/internal/ship"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving"
)

// TestIngestLogs is the "getting logs in" path end to end: an nginx
// combined access log and a JSON app log shipped with loglambda ship, JSON
// lines produced by kcat without a format header, speed and batch with
// --hot-term param:q --uv-field ip, and the merged answers over HTTP
// compared with what the test reads from the files it wrote.
func TestIngestLogs(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: starts Kafka, MongoDB and all layers")
	ctx := testkit.Context(t, 3*time.Minute)
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	end := t0.Add(3 * time.Hour)
	horizon := t0.Add(2 * time.Hour)
	batchNow := t0.Add(2*time.Hour + 30*time.Minute) // hours 0 and 1 complete

	// The stack as `up --hot-term param:q --uv-field ip` wires it.
	st, err := openStack(upConfig{
		data: t.TempDir(), kafkaListen: "127.0.0.1:0", mongoListen: "127.0.0.1:0", httpAddr: "127.0.0.1:0",
		partitions: 4, mongoDB: "loglambda", batchEvery: time.Hour,
		viewFlags: viewFlags{topic: "logs", format: "json", hotTerm: "param:q", uvField: "ip", pane: time.Minute, lateness: 2 * time.Minute},
		batchNow:  func() time.Time { return batchNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	db, lakeDir, brokers := st.db, st.lake, st.kafka.Addrs()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	speedCtx, stopSpeed := context.WithCancel(ctx)
	speedDone := make(chan error, 1)
	go func() { speedDone <- st.speed.Run(speedCtx) }()
	defer func() {
		stopSpeed()
		if err := <-speedDone; err != nil {
			t.Errorf("speed: %v", err)
		}
	}()
	// batch as up builds it, but with a speed margin chosen per run: the
	// first keeps every speed document, so the test can compare answers
	// before and after the deletion.
	newBatch := func(margin time.Duration) *batch.Batch {
		b, err := batch.New(db, brokers, lakeDir, settings.HotTerm("param:q"), settings.UVField("ip"),
			batch.Now(func() time.Time { return batchNow }), batch.SpeedMargin(margin), settings.Logger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	srv := st.serving
	web := httptest.NewServer(srv.Handler())
	defer web.Close()

	// Ship the files: the access log first, then the app log, whose
	// records (all in the first hour) are then late for speed, which
	// counts them in late_dropped; batch counts them.
	lg, accessPath, appPath := writeIngestLogs(t, t.TempDir(), 7, 18000, 600, t0, end)
	for _, f := range []struct{ format, path string }{{"combined", accessPath}, {"json", appPath}} {
		s, err := ship.New(brokers, ship.Format(f.format), ship.Logger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		sum, err := s.Run(ctx, f.path)
		s.Close()
		if err != nil {
			t.Fatalf("ship %s: %v", f.path, err)
		}
		t.Logf("ship --format %s %s: %s", f.format, filepath.Base(f.path), sum)
	}
	kcatLines := produceWithKcat(t, brokers[0], end, 200)
	hits, bad := readIngestTruth(t, lg)
	if bad != lg.accessMalformed+lg.appMalformed {
		t.Fatalf("the test's own parse finds %d bad lines, the generator wrote %d", bad, lg.accessMalformed+lg.appMalformed)
	}
	total := int64(len(lg.access) + len(lg.app) + kcatLines)

	var status statusAnswer
	waitApplied(t, ctx, srv, web.URL, int64(total), 90*time.Second, &status)
	validApp := int64(len(lg.app) - lg.appMalformed)
	if status.ParseErrors != int64(bad) || status.LateDropped != validApp {
		t.Errorf("status: parse_errors %d late_dropped %d, want %d malformed lines and the %d app records (late: shipped after newer access lines)",
			status.ParseErrors, status.LateDropped, bad, validApp)
	}

	sum, err := newBatch(-1).Run(ctx)
	if err != nil {
		t.Fatalf("batch run: %v", err)
	}
	t.Logf("batch run: %d records, %d rows, %d parse errors; hours %v", sum.Compact.Records, sum.Compact.Rows, sum.Compact.ParseErrors, sum.Recompute.Hours)
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tryGetJSON(web.URL, "/v1/status", &status); err != nil {
		t.Fatal(err)
	}
	if status.BatchHorizon == nil || !status.BatchHorizon.Equal(horizon) {
		t.Fatalf("batch horizon %v, want %s", status.BatchHorizon, horizon)
	}
	if got := int64(status.Lake.ParseErrors); got != int64(bad) || status.Lake.Rows != total {
		t.Errorf("status lake: %d rows, %d parse errors; want %d and %d", status.Lake.Rows, got, total, bad)
	}
	var lakeBad, lakeRows int64
	ingestDuck(t, lakeDir, "SELECT count(*) FILTER (WHERE parse_error <> ''), count(*) FROM LAKE", &lakeBad, &lakeRows)
	if lakeBad != int64(bad) || lakeRows != total {
		t.Errorf("DuckDB over the lake: %d rows, %d parse errors; want %d and %d", lakeRows, lakeBad, total, bad)
	}

	for _, tc := range []struct {
		name     string
		from, to time.Time
		batch    bool // wholly before the horizon: exact
		speed    bool // wholly after it: PV exact, hot within its bound
	}{
		{"before horizon", t0, horizon, true, false},
		{"one batch hour", t0.Add(time.Hour), horizon, true, false},
		{"after horizon", horizon, end, false, true},
		{"twenty minutes of speed", horizon.Add(15 * time.Minute), horizon.Add(35 * time.Minute), false, true},
		{"straddling", horizon.Add(-30 * time.Minute), horizon.Add(30 * time.Minute), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := countIngest(hits, tc.from, tc.to)
			var tr trafficAnswer
			getJSON(t, web.URL, "/v1/traffic?step=1h&"+rangeQuery(tc.from, tc.to), &tr)
			if tr.Total.PV != want.pv {
				t.Errorf("pv %d, want %d", tr.Total.PV, want.pv)
			}
			ingestWithin(t, "uv (by ip)", tr.Total.UV, want.uvByIP)
			ingestWithin(t, "ips", tr.Total.IPs, want.ips)
			// The rule matters: by user the count is far off.
			if math.Abs(float64(want.uvByUser-want.uvByIP)) < 0.1*float64(want.uvByIP) {
				t.Fatalf("test data does not tell the rules apart: %d by user, %d by ip", want.uvByUser, want.uvByIP)
			}
			var hot hotAnswer
			getJSON(t, web.URL, "/v1/hot?k=10&"+rangeQuery(tc.from, tc.to), &hot)
			top := testkit.Top(want.terms, 10)
			switch {
			case tc.batch:
				if !hot.Exact || hot.ErrorBound != 0 || !slices.Equal(hot.Terms, top) {
					t.Errorf("hot (exact %v, bound %d)\n got %v\nwant %v", hot.Exact, hot.ErrorBound, hot.Terms, top)
				}
				// Every one-minute bucket is one batch pane: exact.
				var per trafficAnswer
				getJSON(t, web.URL, "/v1/traffic?step=1m&"+rangeQuery(tc.from, tc.to), &per)
				for _, p := range per.Series {
					w := countIngest(hits, p.T, p.T.Add(time.Minute))
					if p.PV != w.pv || p.UV != w.uvByIP || p.IPs != w.ips {
						t.Fatalf("pane %s: pv %d uv %d ips %d, want exactly %d %d %d", p.T, p.PV, p.UV, p.IPs, w.pv, w.uvByIP, w.ips)
					}
				}
			case tc.speed:
				for _, g := range hot.Terms {
					if w := want.terms[g.Term]; w > g.Count || w < g.Count-hot.ErrorBound {
						t.Errorf("term %q: count %d, true %d, beyond the error bound %d", g.Term, g.Count, w, hot.ErrorBound)
					}
				}
				if len(hot.Terms) == 0 || (hot.ErrorBound == 0 && hot.Terms[0] != top[0]) {
					t.Errorf("hot %v, want top %v", hot.Terms, top)
				}
			default:
				if len(hot.Terms) == 0 || hot.Terms[0].Term != top[0].Term {
					t.Errorf("hot %v, want top term %v", hot.Terms, top[0])
				}
			}
			t.Logf("pv %d, uv %d (by ip %d, by user would be %d), ips %d/%d, top %v bound %d",
				want.pv, tr.Total.UV, want.uvByIP, want.uvByUser, tr.Total.IPs, want.ips, hot.Terms[0], hot.ErrorBound)
		})
	}

	t.Run("kcat lines with the default format", func(t *testing.T) {
		if kcatLines == 0 {
			t.Skip("kcat is not on PATH (apt-get install kcat; ci/test.sh installs it)")
		}
		var tr trafficAnswer
		getJSON(t, web.URL, "/v1/traffic?step=1h&"+rangeQuery(end, end.Add(2*time.Minute)), &tr)
		var hot hotAnswer
		getJSON(t, web.URL, "/v1/hot?k=3&"+rangeQuery(end, end.Add(2*time.Minute)), &hot)
		if tr.Total.PV != int64(kcatLines) || len(hot.Terms) != 1 || hot.Terms[0] != (termCount{Term: "kcat", Count: int64(kcatLines)}) {
			t.Errorf("kcat range: pv %d hot %v, want %d lines all with term kcat", tr.Total.PV, hot.Terms, kcatLines)
		}
	})

	t.Run("speed docs behind the horizon deleted, answers unchanged", func(t *testing.T) {
		queries := []string{
			"/v1/traffic?step=10m&" + rangeQuery(t0, end.Add(5*time.Minute)),
			"/v1/traffic?step=1m&" + rangeQuery(horizon.Add(-90*time.Minute), horizon.Add(20*time.Minute)),
			"/v1/hot?k=20&" + rangeQuery(t0, end),
			"/v1/hot?k=20&" + rangeQuery(horizon.Add(-75*time.Minute), horizon.Add(10*time.Minute)),
		}
		answers := func(base string) []string {
			var out []string
			for _, q := range queries {
				var v any
				getJSON(t, base, q, &v)
				b, _ := json.Marshal(v)
				out = append(out, string(b))
			}
			return out
		}
		cut := horizon.Add(-batch.DefaultSpeedMargin)
		beforeDocs := ingestSpeedDocs(t, db, cut)
		if beforeDocs == 0 {
			t.Fatalf("no speed docs before %s to delete", cut)
		}
		before := answers(web.URL)
		rs, err := newBatch(batch.DefaultSpeedMargin).Recompute(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rs.SpeedDocsDeleted != beforeDocs || ingestSpeedDocs(t, db, cut) != 0 {
			t.Errorf("deleted %d speed docs, want the %d ending at or before %s", rs.SpeedDocsDeleted, beforeDocs, cut)
		}
		if n, err := db.Collection("speed_checkpoints").CountDocuments(ctx, bson.D{}); err != nil || n == 0 {
			t.Errorf("checkpoints: %d (%v), want them kept", n, err)
		}
		if err := srv.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		fresh, err := serving.New(db, serving.Lake(lakeDir), serving.Logger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		if err := fresh.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		web2 := httptest.NewServer(fresh.Handler())
		defer web2.Close()
		for name, after := range map[string][]string{"refreshed server": answers(web.URL), "new server": answers(web2.URL)} {
			for i := range queries {
				if after[i] != before[i] {
					t.Errorf("%s: %s changed after deleting %d speed docs:\nbefore %s\nafter  %s", name, queries[i], beforeDocs, before[i], after[i])
				}
			}
		}
		t.Logf("deleted %d speed docs ending at or before %s", rs.SpeedDocsDeleted, cut.Format(time.RFC3339))
	})
}

// produceWithKcat produces n JSON lines timed [from, from+2m) with kcat -P,
// as users do: no format header, so speed parses them with its default
// --format (json). It returns 0 when kcat is not installed.
func produceWithKcat(t *testing.T, broker string, from time.Time, n int) int {
	t.Helper()
	bin, err := exec.LookPath("kcat")
	if err != nil {
		t.Log("kcat is not on PATH: skipping the kcat part (ci/test.sh installs it)")
		return 0
	}
	var in bytes.Buffer
	for i := 0; i < n; i++ {
		at := from.Add(time.Duration(i) * 2 * time.Minute / time.Duration(n))
		fmt.Fprintf(&in, `{"ts":"%s","ip":"198.51.100.%d","method":"GET","url":"/search?q=KCAT","status":200,"bytes":%d}`+"\n",
			at.Format(time.RFC3339Nano), i%250, 100+i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := testkit.CommandContext(ctx, bin, "-P", "-b", broker, "-t", "logs")
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	return n
}

// ingestSpeedDocs counts the speed view documents ending at or before cut.
func ingestSpeedDocs(t *testing.T, db *mongo.Database, cut time.Time) int64 {
	t.Helper()
	var n int64
	for _, view := range views.Names {
		c, err := db.Collection(collections.SpeedCollection(view)).CountDocuments(context.Background(),
			bson.D{{Key: "pane_end", Value: bson.D{{Key: "$lte", Value: cut}}}})
		if err != nil {
			t.Fatal(err)
		}
		n += c
	}
	return n
}

// ingestDuck runs q over every Parquet file of the lake, by glob as a
// notebook would, not through batch's manifest.
func ingestDuck(t *testing.T, lakeDir, q string, dest ...any) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(lakeDir, "logs", "*", "*", "*.parquet")
	q = strings.ReplaceAll(q, "LAKE", fmt.Sprintf("read_parquet('%s', union_by_name = true)", glob))
	if err := db.QueryRow(q).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// ingestWithin checks an estimate against the truth within 2 %.
func ingestWithin(t *testing.T, what string, got, want int64) {
	t.Helper()
	if math.Abs(float64(got-want)) > 0.02*float64(want) {
		t.Errorf("%s %d, want %d within 2%%", what, got, want)
	}
}
