// Command grpcload is ci/scale.sh's load client for the gRPC API, what hey
// is for HTTP: it asks one QueryService method the same question from -c
// clients for -d and prints the first answer's time, then requests/s,
// p50 and p99 of the rest, on one line:
//
//	go run ./internal/grpcload -addr 127.0.0.1:9090 -rpc Traffic -from 2026-12-06T12:00:00Z -to 2026-12-07T12:00:00Z -step 1h
//	first_ms=3.1 n=41234 errors=0 rps=5154 p50_ms=1.40 p99_ms=4.20
//
// The clients share one connection, as a dashboard's backend would.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // the proto codec -raw wraps
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "grpcload:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:9090", "gRPC address of the serving layer")
	rpc := flag.String("rpc", "Status", "method: Hot, Traffic, Levels, Patterns, Clusters, Paths, Status, or Health (grpc.health.v1's Check of the query service: the floor, a trivial handler on the same server)")
	from := flag.String("from", "", "start of the range, RFC 3339; empty: the server's default")
	to := flag.String("to", "", "end of the range, RFC 3339; empty: the server's default")
	step := flag.Duration("step", 0, "bucket width; 0: the server's default")
	k := flag.Int("k", 0, "terms, patterns, clusters or paths; 0: the server's default")
	clients := flag.Int("c", 8, "concurrent clients")
	dur := flag.Duration("d", 8*time.Second, "how long to load after the first answer")
	raw := flag.Bool("raw", false, "receive the answers without decoding them, as hey reads HTTP bodies without parsing them: the figures are then the server's, not this client's protobuf decoding (a day's Status or Clusters answer costs the client several times a health check's decoding)")
	flag.Parse()

	var f, t *timestamppb.Timestamp
	for _, x := range []struct {
		s   string
		out **timestamppb.Timestamp
	}{{*from, &f}, {*to, &t}} {
		if x.s == "" {
			continue
		}
		ts, err := time.Parse(time.RFC3339, x.s)
		if err != nil {
			return fmt.Errorf("parse time %q: %w", x.s, err)
		}
		*x.out = timestamppb.New(ts)
	}
	var st *durationpb.Duration
	if *step > 0 {
		st = durationpb.New(*step)
	}
	dopts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if *raw {
		dopts = append(dopts, grpc.WithDefaultCallOptions(grpc.ForceCodecV2(undecoded{encoding.GetCodecV2("proto")})))
	}
	conn, err := grpc.NewClient(*addr, dopts...)
	if err != nil {
		return fmt.Errorf("connect %s: %w", *addr, err)
	}
	defer conn.Close()
	cl := llv1.NewQueryServiceClient(conn)
	call, err := method(cl, healthpb.NewHealthClient(conn), *rpc, f, t, st, int32(*k))
	if err != nil {
		return err
	}
	ctx := context.Background()
	// Connect first, so the first answer's time is the answer's.
	if _, err := cl.Status(ctx, &llv1.StatusRequest{}); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	start := time.Now()
	if err := call(ctx); err != nil {
		return fmt.Errorf("%s: %w", *rpc, err)
	}
	first := time.Since(start)

	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	end := time.Now().Add(*dur)
	began := time.Now()
	for range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for time.Now().Before(end) {
				t0 := time.Now()
				if err := call(ctx); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	if len(lat) == 0 {
		return errors.New("no answer under load")
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	fmt.Printf("first_ms=%.1f n=%d errors=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f\n",
		float64(first)/float64(time.Millisecond), len(lat), errs, float64(len(lat))/elapsed.Seconds(), q(0.5), q(0.99))
	return nil
}

// undecoded is proto's codec for requests, and for answers a codec that
// receives them without decoding them (-raw).
type undecoded struct{ encoding.CodecV2 }

func (undecoded) Unmarshal(mem.BufferSlice, any) error { return nil }

// method returns a call of the named method with the question's fields.
func method(cl llv1.QueryServiceClient, hc healthpb.HealthClient, name string, f, t *timestamppb.Timestamp, st *durationpb.Duration, k int32) (func(context.Context) error, error) {
	switch name {
	case "Hot":
		return func(ctx context.Context) error {
			_, err := cl.Hot(ctx, &llv1.HotRequest{From: f, To: t, K: k})
			return err
		}, nil
	case "Traffic":
		return func(ctx context.Context) error {
			_, err := cl.Traffic(ctx, &llv1.TrafficRequest{From: f, To: t, Step: st})
			return err
		}, nil
	case "Levels":
		return func(ctx context.Context) error {
			_, err := cl.Levels(ctx, &llv1.LevelsRequest{From: f, To: t, Step: st})
			return err
		}, nil
	case "Patterns":
		return func(ctx context.Context) error {
			_, err := cl.Patterns(ctx, &llv1.PatternsRequest{From: f, To: t, Step: st, K: k})
			return err
		}, nil
	case "Clusters":
		return func(ctx context.Context) error {
			_, err := cl.Clusters(ctx, &llv1.ClustersRequest{From: f, To: t, Step: st, K: k})
			return err
		}, nil
	case "Paths":
		return func(ctx context.Context) error {
			_, err := cl.Paths(ctx, &llv1.PathsRequest{From: f, To: t, K: k})
			return err
		}, nil
	case "Status":
		return func(ctx context.Context) error { _, err := cl.Status(ctx, &llv1.StatusRequest{}); return err }, nil
	case "Health":
		req := &healthpb.HealthCheckRequest{Service: llv1.QueryService_ServiceDesc.ServiceName}
		return func(ctx context.Context) error { _, err := hc.Check(ctx, req); return err }, nil
	}
	return nil, fmt.Errorf("unknown method %q (Hot, Traffic, Levels, Patterns, Clusters, Paths, Status, Health)", name)
}
