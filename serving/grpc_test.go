package serving

import (
	"context"
	"fmt"
	"maps"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// startGRPC serves srv's gRPC API on a loopback port and returns a client
// connection to it; the server is stopped (and must stop cleanly) at the
// end of the test.
func startGRPC(t testing.TB, srv *Server) *grpc.ClientConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeGRPC(ctx, ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeGRPC: %v", err)
		}
	})
	return conn
}

// ts is t as a request field; the zero time leaves the field unset.
func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// rfc3339 formats a message time as the JSON answers do: null when unset.
func rfc3339(p *timestamppb.Timestamp) *string {
	if p == nil {
		return nil
	}
	s := p.AsTime().UTC().Format(time.RFC3339)
	return &s
}

// The gRPC answers in the HTTP answers' wire shapes, to compare the two.

func hotRespOf(r *llv1.HotResponse) hotResp {
	out := hotResp{From: *rfc3339(r.From), To: *rfc3339(r.To), ErrorBound: r.ErrorBound, BatchHorizon: rfc3339(r.BatchHorizon), Exact: r.Exact}
	for _, tc := range r.Terms {
		out.Terms = append(out.Terms, struct {
			Term       string
			Count, Err int64
		}{tc.Term, tc.Count, tc.Err})
	}
	return out
}

func trafficRespOf(r *llv1.TrafficResponse) trafficResp {
	out := trafficResp{From: *rfc3339(r.From), To: *rfc3339(r.To), Step: r.Step.AsDuration().String(),
		Total: counts{r.Total.Pv, r.Total.Uv, r.Total.Ips}, BatchHorizon: rfc3339(r.BatchHorizon), Exact: r.Exact}
	for _, p := range r.Series {
		out.Series = append(out.Series, struct {
			T string
			counts
		}{*rfc3339(p.T), counts{p.Pv, p.Uv, p.Ips}})
	}
	return out
}

func levelsRespOf(r *llv1.LevelsResponse) levelsResp {
	out := levelsResp{From: *rfc3339(r.From), To: *rfc3339(r.To), Step: r.Step.AsDuration().String(),
		Total: map[string]map[string]int64{}, BatchHorizon: rfc3339(r.BatchHorizon), Exact: r.Exact}
	if r.Instance != "" {
		out.Instance = &r.Instance
	}
	for _, p := range r.Series {
		lv := p.Levels
		if lv == nil {
			lv = map[string]int64{} // proto3 cannot tell an empty map from none
		}
		out.Series = append(out.Series, struct {
			T      string
			Levels map[string]int64
		}{*rfc3339(p.T), lv})
	}
	for inst, c := range r.Total {
		lv := c.GetLevels()
		if lv == nil {
			lv = map[string]int64{}
		}
		out.Total[inst] = lv
	}
	return out
}

// sameAsHTTP checks a gRPC call's answer (resp, err), converted to the
// wire shape of the HTTP body by conv, equals the HTTP answer of path,
// and returns it.
func sameAsHTTP[R, W any](t *testing.T, base, path string, resp R, err error, conv func(R) W) W {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	got := conv(resp)
	var want W
	if code := get(t, base, path, &want); code != 200 {
		t.Fatalf("HTTP status %d", code)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("gRPC answer\n%+v\ndiffers from HTTP's\n%+v", got, want)
	}
	return got
}

// getText fetches url and returns the status and body.
func getText(t testing.TB, url string, body *string) int {
	t.Helper()
	resp, b := testkit.Get(t, url)
	*body = string(b)
	return resp.StatusCode
}

// TestGRPCQueries asks the same ranges over gRPC and HTTP: the answers must
// be the same, and right by the test's own counts.
func TestGRPCQueries(t *testing.T) {
	sc := newScenario(t)
	cl := llv1.NewQueryServiceClient(startGRPC(t, sc.srv))
	ctx := context.Background()
	both := func(f, to time.Time) truth { return truthOf(sc.batch, f, to).add(truthOf(sc.speed, f, to)) }

	t.Run("Hot", func(t *testing.T) {
		cases := []struct {
			name     string
			from, to time.Time
			k        int
			exact    bool
		}{
			{"before the horizon", t10.Add(17 * time.Minute), horizon, 1000, true},
			{"before the horizon, top 5", t10, horizon, 5, true},
			{"after the horizon", horizon.Add(13 * time.Minute), t13, 1000, false},
			{"straddling the horizon", horizon.Add(-time.Hour), t13, 1000, false},
			{"default range and k", time.Time{}, time.Time{}, 0, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				path := "/v1/hot"
				if !c.from.IsZero() {
					path += q(c.from, c.to, "k", fmt.Sprint(c.k))
				}
				resp, err := cl.Hot(ctx, &llv1.HotRequest{From: ts(c.from), To: ts(c.to), K: int32(c.k)})
				got := sameAsHTTP(t, sc.url, path, resp, err, hotRespOf)
				from, to := c.from, c.to
				if from.IsZero() {
					from, to = horizon, t13 // the server's clock is at 13:00
				}
				if got.Exact != c.exact {
					t.Errorf("exact %v, want %v", got.Exact, c.exact)
				}
				if c.exact {
					wantTerms := truthOf(sc.batch, from, to).top(c.k)
					if len(got.Terms) != len(wantTerms) {
						t.Fatalf("%d terms, want %d", len(got.Terms), len(wantTerms))
					}
					for i, w := range wantTerms {
						if g := got.Terms[i]; g.Term != w.Term || g.Count != w.Count || g.Err != 0 {
							t.Errorf("term %d = %+v, want %+v", i, g, w)
						}
					}
				} else if c.k >= 1000 {
					assertHotBounds(t, got, both(from, to))
				} else if got.From != "2026-11-20T12:00:00Z" || got.To != "2026-11-20T13:00:00Z" || len(got.Terms) > defaultK {
					// Speed's summaries of that hour hold 8 terms: fewer than
					// the default k.
					t.Errorf("default range %s-%s with %d terms, want 12:00-13:00 and at most %d", got.From, got.To, len(got.Terms), defaultK)
				}
				if got.BatchHorizon == nil || *got.BatchHorizon != "2026-11-20T12:00:00Z" {
					t.Errorf("batch_horizon %v", got.BatchHorizon)
				}
			})
		}
	})

	t.Run("Traffic", func(t *testing.T) {
		cases := []struct {
			name     string
			from, to time.Time
			step     time.Duration
		}{
			{"before the horizon per pane", t10.Add(30 * time.Minute), horizon, 0},
			{"before the horizon per 15m", t10, horizon, 15 * time.Minute},
			{"after the horizon per hour", horizon, t13, time.Hour},
			{"straddling per 20m", horizon.Add(-time.Hour), t13, 20 * time.Minute},
			{"off the grid per 30m", t10.Add(-time.Hour + 10*time.Second), t10.Add(5*time.Minute + 30*time.Second), 30 * time.Minute},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				req := &llv1.TrafficRequest{From: ts(c.from), To: ts(c.to)}
				kv := []string{}
				if c.step != 0 {
					req.Step = durationpb.New(c.step)
					kv = []string{"step", c.step.String()}
				}
				resp, err := cl.Traffic(ctx, req)
				got := sameAsHTTP(t, sc.url, "/v1/traffic"+q(c.from, c.to, kv...), resp, err, trafficRespOf)
				from := c.from.Truncate(time.Minute)
				to := c.to.Add(time.Minute - 1).Truncate(time.Minute)
				step := max(c.step, time.Minute)
				if tr := both(from, to); got.Total.PV != tr.pv {
					t.Errorf("total pv %d, want %d", got.Total.PV, tr.pv)
				}
				for _, pt := range got.Series {
					lo, hi := bucketIn(t, pt.T, step, from, to)
					if tr := both(lo, hi); pt.PV != tr.pv {
						t.Errorf("bucket %s: pv %d, want %d", pt.T, pt.PV, tr.pv)
					}
				}
				if want := c.to.Before(horizon) || c.to.Equal(horizon); got.Exact != want {
					t.Errorf("exact %v, want %v", got.Exact, want)
				}
			})
		}
	})

	t.Run("Patterns", func(t *testing.T) { testGRPCPatterns(t, sc, cl) })
	t.Run("Levels", func(t *testing.T) {
		cases := []struct {
			name     string
			from, to time.Time
			step     time.Duration
			instance string
			exact    bool
		}{
			{"before the horizon per pane", t10.Add(30 * time.Minute), horizon, 0, "", true},
			{"before the horizon per 15m, one instance", t10, horizon, 15 * time.Minute, "tdb-1", true},
			{"after the horizon per hour", horizon, t13, time.Hour, "", false},
			{"straddling per 20m", horizon.Add(-time.Hour), t13, 20 * time.Minute, "", false},
			{"straddling, one instance", horizon.Add(-90 * time.Minute), t13, 30 * time.Minute, "tdb-2", false},
			{"off the grid per 30m", t10.Add(-time.Hour + 10*time.Second), t10.Add(5*time.Minute + 30*time.Second), 30 * time.Minute, "", true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				req := &llv1.LevelsRequest{From: ts(c.from), To: ts(c.to), Instance: c.instance}
				kv := []string{"instance", c.instance}
				if c.step != 0 {
					req.Step = durationpb.New(c.step)
					kv = append(kv, "step", c.step.String())
				}
				resp, err := cl.Levels(ctx, req)
				got := sameAsHTTP(t, sc.url, "/v1/levels"+q(c.from, c.to, kv...), resp, err, levelsRespOf)
				// The test's own counts, independent of both answers.
				from := c.from.Truncate(time.Minute)
				to := c.to.Add(time.Minute - 1).Truncate(time.Minute)
				step := max(c.step, time.Minute)
				wantTotal := both(from, to).levels
				if c.instance != "" {
					wantTotal = map[string]map[string]int64{c.instance: wantTotal[c.instance]}
				}
				if !reflect.DeepEqual(got.Total, wantTotal) {
					t.Errorf("total %v, want %v", got.Total, wantTotal)
				}
				var sum int64
				for _, pt := range got.Series {
					lo, hi := bucketIn(t, pt.T, step, from, to)
					if w := bucketLevels(both(lo, hi), c.instance); !maps.Equal(pt.Levels, w) {
						t.Errorf("bucket %s: levels %v, want %v", pt.T, pt.Levels, w)
					}
					for _, n := range pt.Levels {
						sum += n
					}
				}
				if sum == 0 {
					t.Error("no events counted: the case tests nothing")
				}
				if got.Exact != c.exact {
					t.Errorf("exact %v, want %v", got.Exact, c.exact)
				}
			})
		}
	})
}

// bucketIn is the part of [from, to) in the bucket of width step starting
// at start (RFC 3339): a range's first and last buckets may be cut.
func bucketIn(t *testing.T, start string, step time.Duration, from, to time.Time) (lo, hi time.Time) {
	t.Helper()
	b, err := time.Parse(time.RFC3339, start)
	if err != nil {
		t.Fatalf("bucket start: %v", err)
	}
	lo, hi = b, b.Add(step)
	if lo.Before(from) {
		lo = from
	}
	if hi.After(to) {
		hi = to
	}
	return lo, hi
}

// TestGRPCBadArguments checks that a bad argument fails with
// INVALID_ARGUMENT and the message HTTP answers 400 with for the same
// query.
func TestGRPCBadArguments(t *testing.T) {
	srv, base := startServer(t, testDB(t))
	cl := llv1.NewQueryServiceClient(startGRPC(t, srv))
	t12 := horizon
	type badCase struct {
		name string
		call func(context.Context) error
		// http is the same query over HTTP; empty when HTTP cannot ask
		// it, then want lists substrings of the message.
		http string
		want []string
	}
	cases := []badCase{
		{"hot empty range", func(ctx context.Context) error {
			_, err := cl.Hot(ctx, &llv1.HotRequest{From: ts(t12), To: ts(t12)})
			return err
		}, "/v1/hot" + q(t12, t12), nil},
		{"hot range too long", func(ctx context.Context) error {
			_, err := cl.Hot(ctx, &llv1.HotRequest{From: ts(t12.AddDate(0, -2, 0)), To: ts(t12)})
			return err
		}, "/v1/hot" + q(t12.AddDate(0, -2, 0), t12), nil},
		{"hot negative k", func(ctx context.Context) error {
			_, err := cl.Hot(ctx, &llv1.HotRequest{K: -3})
			return err
		}, "/v1/hot?k=-3", nil},
		{"hot k above the limit", func(ctx context.Context) error {
			_, err := cl.Hot(ctx, &llv1.HotRequest{K: 1001})
			return err
		}, "/v1/hot?k=1001", nil},
		{"hot default from after to", func(ctx context.Context) error {
			_, err := cl.Hot(ctx, &llv1.HotRequest{From: ts(t13.Add(time.Minute))})
			return err
		}, "/v1/hot?from=" + t13.Add(time.Minute).Format(time.RFC3339), nil},
		{"hot invalid timestamp", func(ctx context.Context) error {
			_, err := cl.Hot(ctx, &llv1.HotRequest{From: &timestamppb.Timestamp{Seconds: 1, Nanos: -5}})
			return err
		}, "", []string{"parameter from=", "nanos"}},
		{"traffic negative step", func(ctx context.Context) error {
			_, err := cl.Traffic(ctx, &llv1.TrafficRequest{Step: durationpb.New(-time.Minute)})
			return err
		}, "/v1/traffic?step=-1m0s", nil},
		{"traffic too many buckets", func(ctx context.Context) error {
			_, err := cl.Traffic(ctx, &llv1.TrafficRequest{From: ts(t12.AddDate(0, 0, -30)), To: ts(t12), Step: durationpb.New(time.Minute)})
			return err
		}, "/v1/traffic" + q(t12.AddDate(0, 0, -30), t12, "step", "1m0s"), nil},
		{"levels instance too long", func(ctx context.Context) error {
			_, err := cl.Levels(ctx, &llv1.LevelsRequest{Instance: strings.Repeat("x", 300)})
			return err
		}, "/v1/levels?instance=" + strings.Repeat("x", 300), nil},
	}
	// The series RPCs check from, to and step alike.
	for _, series := range []struct {
		name string
		call func(ctx context.Context, from, to *timestamppb.Timestamp, step *durationpb.Duration) error
	}{
		{"traffic", func(ctx context.Context, from, to *timestamppb.Timestamp, step *durationpb.Duration) error {
			_, err := cl.Traffic(ctx, &llv1.TrafficRequest{From: from, To: to, Step: step})
			return err
		}},
		{"levels", func(ctx context.Context, from, to *timestamppb.Timestamp, step *durationpb.Duration) error {
			_, err := cl.Levels(ctx, &llv1.LevelsRequest{From: from, To: to, Step: step})
			return err
		}},
	} {
		path := "/v1/" + series.name
		cases = append(cases, []badCase{
			{series.name + " from after to", func(ctx context.Context) error {
				return series.call(ctx, ts(t13), ts(t12), nil)
			}, path + q(t13, t12), nil},
			{series.name + " step not a multiple of the pane", func(ctx context.Context) error {
				return series.call(ctx, nil, nil, durationpb.New(90*time.Second))
			}, path + "?step=1m30s", nil},
			{series.name + " invalid step", func(ctx context.Context) error {
				return series.call(ctx, nil, nil, &durationpb.Duration{Seconds: 60, Nanos: -1})
			}, "", []string{"parameter step=", "sign"}},
		}...)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call(context.Background())
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("%v, want InvalidArgument", err)
			}
			if c.http != "" {
				var want errorBody
				if code := get(t, base, c.http, &want); code != 400 {
					t.Fatalf("GET %s: status %d, want 400", c.http, code)
				}
				if st.Message() != want.Error {
					t.Errorf("message %q, HTTP says %q", st.Message(), want.Error)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(st.Message(), w) {
					t.Errorf("message %q does not mention %q", st.Message(), w)
				}
			}
		})
	}
	var metrics string
	if code := getText(t, base+"/metrics", &metrics); code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, w := range []string{
		`loglambda_serving_grpc_requests_total{code="InvalidArgument",method="/loglambda.v1.QueryService/Hot"} 6`,
		`loglambda_serving_grpc_requests_total{code="InvalidArgument",method="/loglambda.v1.QueryService/Traffic"} 5`,
		`loglambda_serving_grpc_requests_total{code="InvalidArgument",method="/loglambda.v1.QueryService/Levels"} 4`,
	} {
		if !strings.Contains(metrics, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
}

// TestGRPCStatus compares Status over gRPC with /v1/status, lake summary
// and unset watermark included.
func TestGRPCStatus(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	writeBatchLayer(t, db, gen(genSpec{from: t10, to: t10.Add(3 * time.Minute), perPane: 10, partitions: 1, terms: 5, users: 5, ips: 5, seed: 1}), now)
	if _, err := db.Collection(collections.CheckpointCollection).InsertMany(ctx, []any{
		bson.M{"_id": "logs|p0", "topic": topic, "partition": int32(0), "offset": int64(99), "high_watermark": int64(150),
			"watermark": horizon, "late_dropped": int64(2), "parse_errors": int64(3), "events": int64(100), "updated": now},
		bson.M{"_id": "logs|p1", "topic": topic, "partition": int32(1), "offset": int64(-1), "high_watermark": int64(20), "updated": now},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(collections.MetaCollection).InsertOne(ctx, bson.M{"_id": collections.LakeDocID(topic), "topic": topic,
		"files": int32(12), "rows": int64(3456), "updated": now, "hours": bson.A{"10", bson.M{"n": int32(1)}}}); err != nil {
		t.Fatal(err)
	}
	// The layers of an up process: speed with a failing backlog, batch
	// with hours waiting.
	backlogs := []Backlog{
		{Layer: "speed", PendingDocs: 40, OldestPending: horizon, FailingSince: horizon.Add(time.Minute), LastError: "mongo down",
			SkippedPanes: 3, SkippedDocs: 15},
		{Layer: "batch", PendingHours: 2, OldestPending: t10, Blocked: `login as "app" refused`},
	}
	broker := testkit.BrokerWith(t, topic, 2, map[int32]int{0: 150, 1: 20})
	srv, base := startServer(t, db, Backlogs(func() []Backlog { return backlogs }), BrokerEndOffsets(broker, topic))
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := llv1.NewQueryServiceClient(startGRPC(t, srv)).Status(ctx, &llv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var want statusResp
	if code := get(t, base, "/v1/status", &want); code != 200 {
		t.Fatalf("HTTP status %d", code)
	}
	if got.Topic != want.Topic || !reflect.DeepEqual(rfc3339(got.BatchHorizon), want.BatchHorizon) ||
		got.Pane.AsDuration() != time.Minute || got.SpeedPanes != int64(want.SpeedPanes) || got.BatchPanes != 3 ||
		got.LateDropped != want.LateDropped || got.ParseErrors != want.ParseErrors || got.Events != want.Events ||
		got.Refreshed == nil {
		t.Errorf("gRPC status %v differs from HTTP's %+v", got, want)
	}
	if len(got.Partitions) != len(want.Partitions) || len(got.Partitions) != 2 {
		t.Fatalf("partitions %v, HTTP %+v", got.Partitions, want.Partitions)
	}
	for i, p := range got.Partitions {
		w := want.Partitions[i]
		if p.Partition != w.Partition || p.Offset != w.Offset || p.HighWatermark != w.HighWatermark || w.Lag == nil || p.Lag != *w.Lag ||
			!reflect.DeepEqual(rfc3339(p.Watermark), w.Watermark) || p.LateDropped != w.LateDropped ||
			p.ParseErrors != w.ParseErrors || p.Events != w.Events {
			t.Errorf("partition %d: %v, HTTP %+v", i, p, w)
		}
	}
	if p := got.Partitions[1]; p.Lag != 20 || p.Watermark != nil {
		t.Errorf("partition 1 (nothing applied): lag %d watermark %v, want 20 and unset", p.Lag, p.Watermark)
	}
	if !reflect.DeepEqual(got.Lake.AsMap(), want.Lake) {
		t.Errorf("lake %v, HTTP %v", got.Lake.AsMap(), want.Lake)
	}
	if len(got.Behind) != len(backlogs) || len(want.Behind) != len(backlogs) {
		t.Fatalf("behind: gRPC %v, HTTP %+v, want %d layers", got.Behind, want.Behind, len(backlogs))
	}
	for i, b := range got.Behind {
		w, in := want.Behind[i], backlogs[i]
		if b.Layer != in.Layer || w.Layer != in.Layer || b.PendingDocs != in.PendingDocs || w.PendingDocs != in.PendingDocs ||
			b.PendingHours != int64(in.PendingHours) || w.PendingHours != int64(in.PendingHours) ||
			!reflect.DeepEqual(rfc3339(b.OldestPending), w.OldestPending) || !b.OldestPending.AsTime().Equal(in.OldestPending) ||
			!reflect.DeepEqual(rfc3339(b.FailingSince), w.FailingSince) || b.LastError != w.LastError ||
			b.SkippedPanes != w.SkippedPanes || b.SkippedDocs != in.SkippedDocs || b.Blocked != in.Blocked || w.Blocked != in.Blocked {
			t.Errorf("behind %d: gRPC %v, HTTP %+v, the layer's %+v", i, b, w, in)
		}
	}
}

// TestGRPCHealthAndReflection checks what grpcurl and load balancers rely
// on: health NOT_SERVING until the cache is loaded, then SERVING; the
// query service listed and described by reflection.
func TestGRPCHealthAndReflection(t *testing.T) {
	srv, _ := startServer(t, testDB(t))
	conn := startGRPC(t, srv)
	ctx := context.Background()
	hc := healthpb.NewHealthClient(conn)
	check := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		for _, svc := range []string{"", "loglambda.v1.QueryService"} {
			resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
			if err != nil {
				t.Fatalf("health check %q: %v", svc, err)
			}
			if resp.Status != want {
				t.Errorf("health of %q: %v, want %v", svc, resp.Status, want)
			}
		}
	}
	check(healthpb.HealthCheckResponse_NOT_SERVING)
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	check(healthpb.HealthCheckResponse_SERVING)

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.CloseSend()
	ask := func(req *reflectionpb.ServerReflectionRequest) *reflectionpb.ServerReflectionResponse {
		t.Helper()
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if e := resp.GetErrorResponse(); e != nil {
			t.Fatalf("reflection error %d: %s", e.ErrorCode, e.ErrorMessage)
		}
		return resp
	}
	var names []string
	for _, s := range ask(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}).GetListServicesResponse().GetService() {
		names = append(names, s.Name)
	}
	for _, w := range []string{"loglambda.v1.QueryService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !slices.Contains(names, w) {
			t.Errorf("reflection lists %v, not %s", names, w)
		}
	}
	// grpcurl then asks for the file describing the service.
	fd := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{
		FileContainingSymbol: "loglambda.v1.QueryService"}}).GetFileDescriptorResponse()
	if fd == nil || len(fd.FileDescriptorProto) == 0 {
		t.Errorf("no file descriptor for loglambda.v1.QueryService: %v", fd)
	}
}

// TestRunServesGRPC runs the server as the commands do, with the GRPC
// option: the gRPC API answers once the first refresh has loaded the
// cache, and Run returns cleanly when its context ends.
func TestRunServesGRPC(t *testing.T) {
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	grpcAddr := free()
	srv, err := New(testDB(t), Topic(topic), GRPC(grpcAddr), RefreshInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, free()) }()
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Watch blocks until the status changes, so no polling loop: the
	// stream's first answers are NOT_SERVING (or an error while Run is
	// still listening) and then SERVING.
	deadline, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	for {
		w, err := healthpb.NewHealthClient(conn).Watch(deadline, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := w.Recv()
		for err == nil && resp.Status != healthpb.HealthCheckResponse_SERVING {
			resp, err = w.Recv()
		}
		if err == nil {
			break
		}
		if deadline.Err() != nil {
			t.Fatalf("not SERVING within 30s: %v", err)
		}
	}
	stop() // ends the watch, which would hold up the graceful stop
	if _, err := llv1.NewQueryServiceClient(conn).Hot(ctx, &llv1.HotRequest{}); err != nil {
		t.Errorf("Hot: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(2 * shutdownTimeout):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestGRPCOptionChecked checks that a malformed gRPC address is refused
// by New, naming the setting.
func TestGRPCOptionChecked(t *testing.T) {
	_, err := New(testDB(t), GRPC("nowhere"))
	if err == nil || !strings.Contains(err.Error(), `grpc address "nowhere"`) {
		t.Errorf("New(GRPC(nowhere)): %v", err)
	}
}
