package cli

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// checkGRPC checks the gRPC API of a running `up` as a client would: the
// health service SERVING, and a hot query before the batch horizon exact
// with terms, agreeing with the horizon and event count that HTTP's
// /v1/status reported.
func checkGRPC(t *testing.T, addr string, from time.Time, st statusAnswer) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "loglambda.v1.QueryService"})
	if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("gRPC health on %s: %v %v, want SERVING", addr, h, err)
	}
	cl := llv1.NewQueryServiceClient(conn)
	gs, err := cl.Status(ctx, &llv1.StatusRequest{})
	if err != nil {
		t.Fatalf("gRPC Status: %v", err)
	}
	if gs.Events < st.Events || gs.BatchHorizon.AsTime().Before(*st.BatchHorizon) {
		t.Errorf("gRPC status: %d events, horizon %v; HTTP said %d and %v before", gs.Events, gs.BatchHorizon.AsTime(), st.Events, *st.BatchHorizon)
	}
	hot, err := cl.Hot(ctx, &llv1.HotRequest{From: timestamppb.New(from), To: timestamppb.New(*st.BatchHorizon), K: 5})
	if err != nil {
		t.Fatalf("gRPC Hot: %v", err)
	}
	if !hot.Exact || len(hot.Terms) == 0 || hot.ErrorBound != 0 {
		t.Errorf("gRPC Hot before the horizon: exact %v, %d terms, error bound %d; want exact terms", hot.Exact, len(hot.Terms), hot.ErrorBound)
	}
}
