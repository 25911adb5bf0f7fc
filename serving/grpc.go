package serving

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// The gRPC side of the queries: loglambda.v1.QueryService over the same
// query layer as HTTP, plus the standard health service (SERVING once the
// cache is loaded, like /readyz) and server reflection, so that grpcurl
// needs no .proto file.

// queryServiceName is the service's full name, also its name in the
// health service.
var queryServiceName = llv1.QueryService_ServiceDesc.ServiceName

// newHealth returns the health service of a server whose cache is not
// loaded yet: the server as a whole ("") and the query service are
// NOT_SERVING until the first refresh succeeds (setReady).
func newHealth() *health.Server {
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	h.SetServingStatus(queryServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	return h
}

// setReady marks the server ready, once: /readyz answers 200 and the
// health service SERVING.
func (s *Server) setReady() {
	if s.ready.Swap(true) {
		return
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(queryServiceName, healthpb.HealthCheckResponse_SERVING)
}

// ServeGRPC serves the gRPC API on ln until ctx is done, then stops
// gracefully: calls in flight get shutdownTimeout to finish. It does not
// refresh the cache; Run does both (with the GRPC option), and tests or an
// embedding program may call Refresh themselves.
func (s *Server) ServeGRPC(ctx context.Context, ln net.Listener) error {
	codec, err := newWireCodec(&s.wires)
	if err != nil {
		return err
	}
	gopts := append([]grpc.ServerOption{grpc.ChainUnaryInterceptor(s.metrics.grpcInterceptor),
		// Experimental in grpc-go ("supported throughout 1.x"): the
		// codec that sends a cached answer's kept bytes (grpcwire.go).
		grpc.ForceServerCodecV2(codec)}, s.grpcAuthOptions()...)
	if tc := s.serverTLS(); tc != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(tc)))
	}
	gs := grpc.NewServer(gopts...)
	llv1.RegisterQueryServiceServer(gs, queryService{s: s})
	healthpb.RegisterHealthServer(gs, s.health)
	reflection.Register(gs)

	serveErr := make(chan error, 1)
	go func() { serveErr <- gs.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve grpc on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	t := time.NewTimer(shutdownTimeout)
	defer t.Stop()
	select {
	case <-stopped:
	case <-t.C:
		// Health watchers and slow clients hold streams open; end them.
		s.cfg.logger.Warn("grpc graceful stop timed out; closing connections", "timeout", shutdownTimeout)
		gs.Stop()
		<-stopped
	}
	<-serveErr
	return nil
}

// queryService implements loglambda.v1.QueryService: it converts requests
// into the query layer's queries and answers into messages, nothing more.
type queryService struct {
	llv1.UnimplementedQueryServiceServer
	s *Server
}

// respond answers a call: q is the query read from the request, with the
// error of reading it; answer is the shared query layer's, resp converts
// its answer into the response message. Errors become statuses
// (grpcError).
func respond[Q, A, R any](ctx context.Context, q Q, err error, answer func(context.Context, Q) (A, error), resp func(A) R) (R, error) {
	var zero R
	if err != nil {
		return zero, grpcError(err)
	}
	a, err := answer(ctx, q)
	if err != nil {
		return zero, grpcError(err)
	}
	return resp(a), nil
}

// respondCached is respond for an answer kept in the answer cache: the
// response message is built once per cached answer and kept beside it
// (answerEntry.msg), as cachedJSON keeps the JSON body, so a repeated
// question costs a lookup; the message is marshalled once too, its bytes
// kept in wires for the server's codec (grpcwire.go). Built per call, a
// day's clusters message held gRPC at 515 requests/s where HTTP, whose
// body is cached, did 2,453 (ci/scale.sh HISTORY=3h, shared machine). A
// message is never changed once built, and encoding one from several
// calls at once is safe.
func respondCached[Q, A any, R any](ctx context.Context, wires *wireCache, q Q, err error, answer func(context.Context, Q) (A, *answerEntry, error), resp func(A) R) (R, error) {
	var zero R
	if err != nil {
		return zero, grpcError(err)
	}
	a, e, err := answer(ctx, q)
	if err != nil {
		return zero, grpcError(err)
	}
	if m := e.msg.Load(); m != nil {
		return (*m).(R), nil
	}
	r := resp(a)
	if pm, ok := any(r).(proto.Message); ok {
		keep(wires, e, pm)
	}
	var m any = r
	e.msg.Store(&m)
	return r, nil
}

// grpcError maps the query layer's errors to gRPC statuses: a bad
// parameter is INVALID_ARGUMENT with the message HTTP answers 400 with.
func grpcError(err error) error {
	var pe *paramError
	if errors.As(err, &pe) {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}
