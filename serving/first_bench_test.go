package serving

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/loglambda/loglambda/schemas/event"
	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
	"github.com/loglambda/loglambda/schemas/views"
)

// BenchmarkQueryFirst measures the first (uncached) answer of every
// endpoint over the last 24 h, as the dashboard and a user ask it (from/to
// on a 15-minute boundary, so 23 hour blocks and 60 panes, or 4 quarter
// blocks, at the edges); the dashboard's own requests one by one
// (dashboard_*) and in the two waves of concurrent requests Chromium
// sends (dashboard_waves: the slowest of each, and the page's CPU time);
// beside /v1/status (the floor: an answer that merges nothing), over HTTP
// (the handler) and gRPC (loopback). The day is built in memory, as a
// refresh leaves it: 1-minute panes of 2 partitions merged as
// mergeSpeedRaw merges them, hour and day blocks as publish builds them,
// no pane decoded before each answer (a first answer over a day reads more
// panes than the decode cache holds);
// 600 events a minute over 3,000 paths, 200,000 users. ms/answer is wall
// time, cpu-ms/answer the process's CPU time (the figure to compare on a
// shared machine).
//
//	go test ./serving/ -run '^$' -bench QueryFirst -benchtime 20x
func BenchmarkQueryFirst(b *testing.B) {
	end := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	start := end.Add(-24 * time.Hour)
	srv, err := New(testDB(b), Now(func() time.Time { return end }))
	if err != nil {
		b.Fatal(err)
	}
	setup := time.Now()
	srv.snap.Store(benchDay(b, srv, start, end))
	b.Logf("a day of panes built in %s", time.Since(setup))
	conn := startGRPC(b, srv)
	qc := llv1.NewQueryServiceClient(conn)
	from, to := start.Format(time.RFC3339), end.Format(time.RFC3339)
	rng := "from=" + from + "&to=" + to
	type query struct {
		name string
		http string
		grpc func(ctx context.Context) error
	}
	queries := []query{
		{name: "status", http: "/v1/status"},
		{name: "hot_k20", http: "/v1/hot?" + rng + "&k=20"},
		{name: "traffic_step1h", http: "/v1/traffic?" + rng + "&step=1h"},
		{name: "traffic_step15m", http: "/v1/traffic?" + rng + "&step=15m"},
		{name: "levels_step15m", http: "/v1/levels?" + rng + "&step=15m"},
		{name: "patterns_k15_step15m", http: "/v1/patterns?" + rng + "&k=15&step=15m"},
		{name: "paths_k10", http: "/v1/paths?" + rng + "&k=10"},
		{name: "paths_k15", http: "/v1/paths?" + rng + "&k=15"},
		{name: "statuses", http: "/v1/statuses?" + rng},
		{name: "clusters_k5_step1h", http: "/v1/clusters?" + rng + "&k=5&step=1h"},
		{name: "clusters_k5_step15m", http: "/v1/clusters?" + rng + "&k=5&step=15m"},
		{name: "grpc_traffic_step15m", grpc: func(ctx context.Context) error {
			_, err := qc.Traffic(ctx, &llv1.TrafficRequest{From: ts(start), To: ts(end), Step: durationpb.New(15 * time.Minute)})
			return err
		}},
		{name: "grpc_paths_k10", grpc: func(ctx context.Context) error {
			_, err := qc.Paths(ctx, &llv1.PathsRequest{From: ts(start), To: ts(end), K: 10})
			return err
		}},
		{name: "grpc_clusters_k5_step1h", grpc: func(ctx context.Context) error {
			_, err := qc.Clusters(ctx, &llv1.ClustersRequest{From: ts(start), To: ts(end), K: 5, Step: durationpb.New(time.Hour)})
			return err
		}},
	}
	h := srv.Handler()
	// The dashboard over 24 h (GET /v1/window?last=24h&points=96: step
	// 900 s) asks as Chromium does (app.js, patterns.js, clusters.js, the
	// views' tables), in two waves of concurrent requests: the slowest
	// answer of each, first answers all.
	dashboard := [][]string{
		{"/v1/traffic?" + rng + "&step=900s", "/v1/hot?" + rng + "&k=20", "/v1/levels?" + rng + "&step=900s",
			"/v1/alerts?" + rng, "/v1/patterns?" + rng + "&step=900s&k=15"},
		{"/v1/clusters?" + rng + "&k=5&step=900s", "/v1/paths?" + rng + "&k=15", "/v1/statuses?" + rng},
	}
	for _, wave := range dashboard {
		for _, q := range wave {
			queries = append(queries, query{name: "dashboard_" + strings.TrimPrefix(q[:strings.Index(q, "?")], "/v1/"), http: q})
		}
	}
	b.Run("dashboard_waves", func(b *testing.B) {
		cpu0 := cpuTime()
		var slowest [2]time.Duration
		for b.Loop() {
			srv.answers.reset()
			srv.buckets.reset()
			srv.decoded.reset()
			for i, wave := range dashboard {
				var wg sync.WaitGroup
				took := make([]time.Duration, len(wave))
				for j, q := range wave {
					wg.Go(func() {
						t0 := time.Now()
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, q, nil))
						took[j] = time.Since(t0)
						if rec.Code != 200 {
							b.Errorf("%s: %d %s", q, rec.Code, rec.Body)
						}
					})
				}
				wg.Wait()
				slowest[i] += slices.Max(took)
			}
		}
		b.ReportMetric(float64(slowest[0].Microseconds())/1000/float64(b.N), "wave1-slowest-ms")
		b.ReportMetric(float64(slowest[1].Microseconds())/1000/float64(b.N), "wave2-slowest-ms")
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/page")
	})
	for _, qr := range queries {
		b.Run(qr.name, func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				srv.answers.reset()
				srv.buckets.reset()
				srv.decoded.reset()
				if qr.grpc != nil {
					if err := qr.grpc(context.Background()); err != nil {
						b.Fatal(err)
					}
					continue
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, qr.http, nil))
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", qr.http, rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/answer")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/answer")
		})
	}
}

// reset empties the cache, as if no pane had been decoded yet.
func (c *decodeCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Init()
	clear(c.entries)
	c.size = 0
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchDay returns a snapshot whose speed layer holds [start, end) of
// 1-minute panes, built as a refresh builds them, an hour of events at a
// time (a day of events at once would hold gigabytes); the panes of
// complete hours held encoded, as publish holds them (sealHour).
func benchDay(tb testing.TB, srv *Server, start, end time.Time) *snapshot {
	sn := emptySnapshot()
	l := sn.speed
	pane := int64(time.Minute / time.Second)
	for hr := start.Truncate(time.Hour); hr.Before(end); hr = hr.Add(time.Hour) {
		from, to := hr, hr.Add(time.Hour)
		if from.Before(start) {
			from = start
		}
		if to.After(end) {
			to = end
		}
		evs := gen(genSpec{from: from, to: to, perPane: 600, partitions: 2,
			terms: 5000, prefix: "term", users: 200000, ips: 50000, paths: 3000, seed: uint64(hr.Unix())})
		type key struct {
			pane int64
			part int32
		}
		parts := map[key]*views.Pane{}
		paneOf := func(ev *event.Event) *views.Pane {
			k := key{ev.Time.Truncate(time.Minute).Unix(), ev.Partition}
			if parts[k] == nil {
				parts[k] = views.NewPane(views.DefaultHotCapacity)
			}
			return parts[k]
		}
		for i := range evs {
			paneOf(&evs[i]).Add(&evs[i])
		}
		minePanes(evs, paneOf)
		// Every pane through its encoding, merged across partitions.
		byPane := map[int64]*views.Pane{}
		for k, p := range parts {
			p.Hot.Compact()
			dec := views.NewPane(0)
			for _, view := range views.Names {
				data, err := p.Encode(view)
				if err != nil {
					tb.Fatal(err)
				}
				if err := dec.Decode(view, data); err != nil {
					tb.Fatal(err)
				}
			}
			if byPane[k.pane] == nil {
				byPane[k.pane] = views.NewPane(0)
			}
			byPane[k.pane].Merge(dec)
		}
		for k, p := range byPane {
			l.panes[k] = newState(p)
		}
		complete := !hr.Add(time.Hour).After(end)
		l.rebuildHour(hr.Unix(), pane, complete, nil, srv.decoded)
		if complete {
			srv.sealHour(l, hr.Unix())
		}
	}
	hours := map[int64]bool{}
	for h := range l.hours {
		hours[h] = true
	}
	l.rebuildDays(hours, end.Unix(), nil)
	return sn
}
