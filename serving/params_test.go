package serving

import (
	"context"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// TestGivenStepBothFrontEnds runs the same bad steps through HTTP and
// gRPC: both refuse them with the same message. A zero step given over
// gRPC was taken as the default before issue 9, while HTTP refused it.
func TestGivenStepBothFrontEnds(t *testing.T) {
	srv, base := startServer(t, testDB(t))
	cl := llv1.NewQueryServiceClient(startGRPC(t, srv))
	for _, tc := range []struct {
		name string
		step time.Duration
		http string
	}{
		{"traffic zero step", 0, "/v1/traffic?step=0s"},
		{"levels zero step", 0, "/v1/levels?step=0s"},
		{"traffic negative step", -time.Minute, "/v1/traffic?step=-1m0s"},
		{"levels step not a multiple of the pane", 90 * time.Second, "/v1/levels?step=1m30s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			ctx := context.Background()
			if tc.http[:len("/v1/traffic")] == "/v1/traffic" {
				_, err = cl.Traffic(ctx, &llv1.TrafficRequest{Step: durationpb.New(tc.step)})
			} else {
				_, err = cl.Levels(ctx, &llv1.LevelsRequest{Step: durationpb.New(tc.step)})
			}
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("gRPC: %v, want InvalidArgument", err)
			}
			var want errorBody
			if code := get(t, base, tc.http, &want); code != http.StatusBadRequest {
				t.Fatalf("GET %s: status %d, want 400", tc.http, code)
			}
			if st.Message() != want.Error || want.Error == "" {
				t.Errorf("gRPC says %q, HTTP says %q", st.Message(), want.Error)
			}
		})
	}
}
