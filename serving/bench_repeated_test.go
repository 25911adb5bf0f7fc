package serving

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
	"github.com/loglambda/loglambda/schemas/views"
)

// repeatedClients is how many clients ask at once: ci/scale.sh's hey -c 8,
// the dashboard load.
const repeatedClients = 8

// trivialPath is the limit beside the answers: a net/http handler on the
// same server that writes a fixed JSON body and does nothing else, so
// what it costs is net/http's (and the client's) alone.
const trivialPath = "/bench/trivial"

// BenchmarkQueryRepeated measures repeated questions, as a dashboard asks
// them, over the real HTTP server on loopback under 8 concurrent clients
// (each request timed: req/s, p50-ms and p99-ms), beside the limit: a
// trivial handler on the same server under the same load, measured right
// after each (trivial-req/s, trivial-p99-ms; x-of-trivial: requests per
// second as a share of its, aim 1). Every question is the
// one ci/scale.sh asks over the last 24 h; it is answered once before the
// timing, so every timed request is a cache hit. handler-allocs is what
// the server's handler allocates per request beyond net/http's (a
// repeated answer through Handler with a reused ResponseWriter). The data
// are small (20 events per pane): a cached answer's cost does not depend
// on them, only on its body. Then the same over gRPC (repeatedGRPC),
// beside the health check on the same server.
//
//	go test ./serving/ -run '^$' -bench QueryRepeated -benchtime 20000x
func BenchmarkQueryRepeated(b *testing.B) {
	end := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	start := end.Add(-24 * time.Hour)
	db := testDB(b)
	writeSpeed(b, db, gen(genSpec{from: start, to: end, perPane: 20, partitions: 4, terms: 5000, prefix: "term", users: 20000, ips: 8000, seed: 7}),
		views.DefaultHotCapacity, time.Now())
	srv, err := New(db, Now(func() time.Time { return end }))
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	mux := http.NewServeMux()
	mux.HandleFunc(trivialPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{\"ok\":true}\n"))
	})
	mux.Handle("/", h)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: repeatedClients}}
	defer cl.CloseIdleConnections()

	r := "from=" + start.Format(time.RFC3339) + "&to=" + end.Format(time.RFC3339)
	hour := "from=" + end.Add(-time.Hour).Format(time.RFC3339) + "&to=" + end.Format(time.RFC3339)
	queries := []struct{ name, path string }{
		{"status", "/v1/status"},
		{"hot_k10", "/v1/hot?" + r + "&k=10"},
		{"traffic_step1h", "/v1/traffic?" + r + "&step=1h"},
		{"traffic_step15m", "/v1/traffic?" + r + "&step=15m"},
		{"traffic_lasthour_step5m", "/v1/traffic?" + hour + "&step=5m"},
		{"levels_step1h", "/v1/levels?" + r + "&step=1h"},
		{"patterns_step1h_k10", "/v1/patterns?" + r + "&step=1h&k=10"},
		{"clusters_step1h_k5", "/v1/clusters?" + r + "&k=5&step=1h"},
		{"paths_k10", "/v1/paths?" + r + "&k=10"},
		{"window_24h", "/v1/window?last=24h&points=96&to=" + end.Format(time.RFC3339)},
	}
	for _, qr := range queries {
		b.Run(qr.name, func(b *testing.B) {
			if _, err := getBody(cl, hs.URL+qr.path); err != nil {
				b.Fatal(err) // the first answer, cached from now on
			}
			allocs := handlerAllocs(h, qr.path)
			b.ResetTimer()
			rps, p50, p99 := loadHTTP(b, cl, hs.URL+qr.path, b.N)
			b.StopTimer()
			// The limit, measured right after under the same load, so
			// that both share the machine's state of the moment.
			limit, _, limitP99 := loadHTTP(b, cl, hs.URL+trivialPath, b.N)
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(p50, "p50-ms")
			b.ReportMetric(p99, "p99-ms")
			b.ReportMetric(limit, "trivial-req/s")
			b.ReportMetric(limitP99, "trivial-p99-ms")
			b.ReportMetric(rps/limit, "x-of-trivial")
			b.ReportMetric(allocs, "handler-allocs")
		})
	}
	repeatedGRPC(b, srv, start, end)
}

// loadHTTP GETs url n times from repeatedClients clients at once and
// returns the requests per second and the p50 and p99 latency in ms.
func loadHTTP(b *testing.B, cl *http.Client, url string, n int) (rps, p50, p99 float64) {
	return load(b, n, func() error {
		_, err := getBody(cl, url)
		return err
	})
}

// load makes call n times from repeatedClients clients at once and
// returns the calls per second and the p50 and p99 latency in ms.
func load(b *testing.B, n int, call func() error) (rps, p50, p99 float64) {
	lat := make([][]time.Duration, repeatedClients)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for c := range repeatedClients {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				t := time.Now()
				if err := call(); err != nil {
					failed.Store(&err)
					return
				}
				lat[c] = append(lat[c], time.Since(t))
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return float64(len(all)) / took.Seconds(), ms(all[len(all)/2]), ms(all[len(all)*99/100])
}

// repeatedGRPC is BenchmarkQueryRepeated's gRPC side: the same questions
// over the real gRPC server on loopback, beside grpc.health.v1's Check
// on the same server (the limit), the answers received and not decoded
// (as grpcload -raw), so that the figures are the server's.
func repeatedGRPC(b *testing.B, srv *Server, start, end time.Time) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeGRPC(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(undecodedAnswers{encoding.GetCodecV2("proto")})))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	cl, hc := llv1.NewQueryServiceClient(conn), healthpb.NewHealthClient(conn)
	f, t := timestamppb.New(start), timestamppb.New(end)
	hour := durationpb.New(time.Hour)
	calls := []struct {
		name string
		call func() error
	}{
		{"Status", func() error { _, err := cl.Status(ctx, &llv1.StatusRequest{}); return err }},
		{"Hot_k10", func() error { _, err := cl.Hot(ctx, &llv1.HotRequest{From: f, To: t, K: 10}); return err }},
		{"Traffic_step15m", func() error {
			_, err := cl.Traffic(ctx, &llv1.TrafficRequest{From: f, To: t, Step: durationpb.New(15 * time.Minute)})
			return err
		}},
		{"Levels_step1h", func() error { _, err := cl.Levels(ctx, &llv1.LevelsRequest{From: f, To: t, Step: hour}); return err }},
		{"Patterns_step1h_k10", func() error {
			_, err := cl.Patterns(ctx, &llv1.PatternsRequest{From: f, To: t, Step: hour, K: 10})
			return err
		}},
		{"Clusters_step1h_k5", func() error {
			_, err := cl.Clusters(ctx, &llv1.ClustersRequest{From: f, To: t, Step: hour, K: 5})
			return err
		}},
		{"Paths_k10", func() error { _, err := cl.Paths(ctx, &llv1.PathsRequest{From: f, To: t, K: 10}); return err }},
	}
	health := &healthpb.HealthCheckRequest{}
	limitCall := func() error { _, err := hc.Check(ctx, health); return err }
	for _, c := range calls {
		b.Run("grpc_"+c.name, func(b *testing.B) {
			if err := c.call(); err != nil {
				b.Fatal(err) // the first answer, cached from now on
			}
			b.ResetTimer()
			rps, p50, p99 := load(b, b.N, c.call)
			b.StopTimer()
			limit, _, limitP99 := load(b, b.N, limitCall)
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(p50, "p50-ms")
			b.ReportMetric(p99, "p99-ms")
			b.ReportMetric(limit, "health-req/s")
			b.ReportMetric(limitP99, "health-p99-ms")
			b.ReportMetric(rps/limit, "x-of-health")
		})
	}
}

// undecodedAnswers is proto's codec for requests; answers are received
// and not decoded.
type undecodedAnswers struct{ encoding.CodecV2 }

func (undecodedAnswers) Unmarshal(mem.BufferSlice, any) error { return nil }

// getBody GETs url and reads the whole body; not 200 is an error.
func getBody(cl *http.Client, url string) ([]byte, error) {
	resp, err := cl.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = &httpStatusError{url: url, code: resp.StatusCode, body: string(body)}
	}
	return body, err
}

type httpStatusError struct {
	url  string
	code int
	body string
}

func (e *httpStatusError) Error() string {
	return "GET " + e.url + ": " + http.StatusText(e.code) + ": " + e.body
}

// handlerAllocs is what h allocates to answer path once more, with a
// request and a ResponseWriter made beforehand: the handler's own
// allocations, beyond net/http's.
func handlerAllocs(h http.Handler, path string) float64 {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	w := &discardWriter{h: http.Header{}}
	return testing.AllocsPerRun(200, func() {
		clear(w.h)
		h.ServeHTTP(w, req)
	})
}

// discardWriter is a ResponseWriter that keeps nothing but its header map.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
