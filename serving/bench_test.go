package serving

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// BenchmarkQuery measures requests per second of /v1/hot, /v1/traffic,
// /v1/levels, /v1/patterns (1 h, and 24 h against the 24 h before: 48 h of
// states) and /v1/clusters over the last 24 h (or 1 h) of speed views with
// 1-minute panes from 4 partitions, beside /v1/status (the floor: an answer
// that merges nothing): repeated questions, answered in process (the
// handler alone) and over loopback HTTP, and first questions (the answer
// cache emptied before each), in process. The range ends at 00:30, off
// the hour, so answers merge 23 hour blocks plus 60 single panes, as a
// "last 24 h" query from a dashboard does.
//
//	go test ./serving/ -run '^$' -bench Query -benchtime 3s
func BenchmarkQuery(b *testing.B) {
	end := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	start := end.Add(-24 * time.Hour)
	db := testDB(b)
	setup := time.Now()
	evs := gen(genSpec{from: start, to: end, perPane: 200, partitions: 4, terms: 5000, prefix: "term", users: 20000, ips: 8000, seed: 7})
	for view, ds := range speedDocs(b, evs, views.DefaultHotCapacity, time.Now()) {
		docs := make([]any, len(ds))
		for i := range ds {
			docs[i] = ds[i]
		}
		if _, err := db.Collection(collections.SpeedCollection(view)).InsertMany(context.Background(), docs, options.InsertMany().SetOrdered(false)); err != nil {
			b.Fatal(err)
		}
	}
	written := time.Since(setup)
	srv, err := New(db, Now(func() time.Time { return end }))
	if err != nil {
		b.Fatal(err)
	}
	refresh := time.Now()
	if err := srv.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	first := time.Since(refresh)
	// One pane rewritten later: the next refresh matches only its
	// documents, but the store may still scan every document to find them.
	writeSpeed(b, db, gen(genSpec{from: end.Add(-time.Minute), to: end, perPane: 200, partitions: 4, terms: 5000, prefix: "term", users: 20000, ips: 8000, seed: 8}),
		views.DefaultHotCapacity, time.Now().Add(time.Minute))
	refresh = time.Now()
	if err := srv.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d events, %d speed panes: written in %s, first refresh %s, incremental refresh of one pane %s",
		len(evs), len(srv.snap.Load().speed.panes), written, first, time.Since(refresh))
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	queries := []struct{ name, path string }{
		{"status", "/v1/status"},
		{"hot_k10", "/v1/hot?from=" + start.Format(time.RFC3339) + "&k=10"},
		{"hot_k1000", "/v1/hot?from=" + start.Format(time.RFC3339) + "&k=1000"},
		{"traffic_step1h", "/v1/traffic?from=" + start.Format(time.RFC3339) + "&step=1h"},
		{"traffic_step1m", "/v1/traffic?from=" + start.Format(time.RFC3339)},
		{"traffic_step15m", "/v1/traffic?from=" + start.Format(time.RFC3339) + "&step=15m"},
		{"levels_step1h", "/v1/levels?from=" + start.Format(time.RFC3339) + "&step=1h"},
		{"patterns_1h_step1m", "/v1/patterns?from=" + end.Add(-time.Hour).Format(time.RFC3339) + "&k=10"},
		{"patterns_24h_step1h", "/v1/patterns?from=" + start.Format(time.RFC3339) + "&k=10&step=1h"},
		{"clusters_1h_step1m", "/v1/clusters?from=" + end.Add(-time.Hour).Format(time.RFC3339)},
		{"clusters_24h_step1h", "/v1/clusters?from=" + start.Format(time.RFC3339) + "&step=1h"},
	}
	for _, qr := range queries {
		b.Run(qr.name+"/handler", func(b *testing.B) {
			h := srv.Handler()
			req := httptest.NewRequest(http.MethodGet, qr.path, nil)
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", qr.path, rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
		b.Run(qr.name+"/first", func(b *testing.B) {
			h := srv.Handler()
			req := httptest.NewRequest(http.MethodGet, qr.path, nil)
			for b.Loop() {
				srv.answers.reset()
				srv.buckets.reset()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", qr.path, rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/answer")
		})
		b.Run(qr.name+"/http", func(b *testing.B) {
			cl := hs.Client()
			for b.Loop() {
				resp, err := cl.Get(hs.URL + qr.path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%s: %d", qr.path, resp.StatusCode)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
