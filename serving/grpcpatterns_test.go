package serving

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// patternsRespOf converts a gRPC answer to the HTTP body's shape, so the
// two can be compared whole.
func patternsRespOf(r *llv1.PatternsResponse) patternsResp {
	fmtTS := func(t *timestamppb.Timestamp) string { return t.AsTime().UTC().Format(time.RFC3339) }
	out := patternsResp{
		From: fmtTS(r.GetFrom()), To: fmtTS(r.GetTo()), Step: r.GetStep().AsDuration().String(),
		Total: r.GetTotal(), PreviousTotal: r.GetPreviousTotal(), Exact: r.GetExact(),
		Steps: []string{}, Patterns: []patternResp{}, Gone: []patternResp{},
	}
	if r.GetBatchHorizon() != nil {
		h := fmtTS(r.GetBatchHorizon())
		out.BatchHorizon = &h
	}
	for _, t := range r.GetSteps() {
		out.Steps = append(out.Steps, fmtTS(t))
	}
	conv := func(p *llv1.PatternCount) patternResp {
		pr := patternResp{Pattern: p.GetPattern(), Template: p.GetTemplate(), Count: p.GetCount(), Previous: p.GetPrevious(),
			Share: p.GetShare(), ChangePct: p.ChangePct, New: p.GetNew(), Gone: p.GetGone(),
			FirstSeen: fmtTS(p.GetFirstSeen()), LastSeen: fmtTS(p.GetLastSeen()), Series: p.GetSeries()}
		pr.Example.Line, pr.Example.Partition, pr.Example.Offset = p.GetExample(), p.GetExamplePartition(), p.GetExampleOffset()
		return pr
	}
	for _, p := range r.GetPatterns() {
		out.Patterns = append(out.Patterns, conv(p))
	}
	for _, p := range r.GetGone() {
		out.Gone = append(out.Gone, conv(p))
	}
	return out
}

// testGRPCPatterns: the Patterns RPC answers what GET /v1/patterns
// answers (tested against the fixture's truth in testPatterns), and its bad
// arguments fail as HTTP's do.
func testGRPCPatterns(t *testing.T, sc *scenario, cl llv1.QueryServiceClient) {
	ctx := context.Background()
	for _, c := range []struct {
		name            string
		from, to        time.Time
		step            time.Duration
		k               int
		level, instance string
	}{
		{"before the horizon", t10.Add(time.Hour), horizon, 10 * time.Minute, 50, "", ""},
		{"new kind, errors only", fixtureNewKind, t13, 5 * time.Minute, 3, "ERROR", ""},
		{"all gone", t13, t13.Add(30 * time.Minute), 0, 50, "", "tdb-1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := &llv1.PatternsRequest{From: ts(c.from), To: ts(c.to), K: int32(c.k), Level: c.level, Instance: c.instance}
			k := c.k
			if k == 0 {
				k = 10 // gRPC's 0 is the default; HTTP asks for it by absence
			}
			kv := []string{"k", strconv.Itoa(k), "level", c.level, "instance", c.instance}
			if c.step != 0 {
				req.Step = durationpb.New(c.step)
				kv = append(kv, "step", c.step.String())
			}
			resp, err := cl.Patterns(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			got := patternsRespOf(resp)
			var want patternsResp
			if code := get(t, sc.url, "/v1/patterns"+q(c.from, c.to, kv...), &want); code != 200 {
				t.Fatalf("HTTP status %d", code)
			}
			for i := range want.Patterns {
				if want.Patterns[i].Series == nil {
					want.Patterns[i].Series = got.Patterns[i].Series
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("gRPC %+v\nHTTP %+v", got, want)
			}
			if len(got.Patterns)+len(got.Gone) == 0 {
				t.Error("empty answer: the case tests nothing")
			}
		})
	}
	for _, c := range []struct {
		name string
		req  *llv1.PatternsRequest
	}{
		{"negative k", &llv1.PatternsRequest{K: -1}},
		{"step not a multiple of the pane", &llv1.PatternsRequest{Step: durationpb.New(90 * time.Second)}},
		{"level too long", &llv1.PatternsRequest{Level: strings.Repeat("E", 100)}},
		{"from after to", &llv1.PatternsRequest{From: ts(t13), To: ts(horizon)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := cl.Patterns(ctx, c.req)
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("error %v, want INVALID_ARGUMENT", err)
			}
		})
	}
}
