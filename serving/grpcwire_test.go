package serving

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// TestGRPCRepeatedAnswers asks cached answers again over gRPC: each
// repeated call is sent from the bytes kept for the answer's message
// (wireCodec) and decodes to the first call's answer, which equals the
// HTTP answer of the same question; the exact-before-the-horizon top
// terms are the events'. A new batch run (every answer invalidated)
// gives new messages whose bytes are kept too.
func TestGRPCRepeatedAnswers(t *testing.T) {
	sc := newScenario(t)
	cl := llv1.NewQueryServiceClient(startGRPC(t, sc.srv))
	ctx := context.Background()
	type call struct {
		name string
		do   func() (proto.Message, error)
	}
	calls := []call{
		{"Hot", func() (proto.Message, error) {
			return cl.Hot(ctx, &llv1.HotRequest{From: ts(t10), To: ts(horizon), K: 5})
		}},
		{"Traffic", func() (proto.Message, error) {
			return cl.Traffic(ctx, &llv1.TrafficRequest{From: ts(t10), To: ts(t13), Step: durationpb.New(15 * time.Minute)})
		}},
		{"Clusters", func() (proto.Message, error) {
			return cl.Clusters(ctx, &llv1.ClustersRequest{From: ts(t10), To: ts(t13)})
		}},
		{"Status", func() (proto.Message, error) { return cl.Status(ctx, &llv1.StatusRequest{}) }},
		{"View", func() (proto.Message, error) {
			return cl.View(ctx, &llv1.ViewRequest{View: "statuses", Params: map[string]string{"from": t10.Format(time.RFC3339), "to": t13.Format(time.RFC3339)}})
		}},
	}
	ask := func() map[string]proto.Message {
		out := map[string]proto.Message{}
		for _, c := range calls {
			first, err := c.do()
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			for range 3 {
				again, err := c.do()
				if err != nil {
					t.Fatalf("%s again: %v", c.name, err)
				}
				if !proto.Equal(first, again) {
					t.Fatalf("%s: repeated answer\n%v\ndiffers from the first\n%v", c.name, again, first)
				}
			}
			out[c.name] = first
		}
		return out
	}
	kept := func() int {
		n := 0
		sc.srv.wires.m.Range(func(any, any) bool { n++; return true })
		return n
	}
	got := ask()
	if n := kept(); n < len(calls) {
		t.Errorf("%d messages' bytes kept, want at least %d", n, len(calls))
	}
	hot := got["Hot"].(*llv1.HotResponse)
	sameAsHTTP(t, sc.url, "/v1/hot"+q(t10, horizon, "k", "5"), hot, nil, hotRespOf)
	want := truthOf(sc.batch, t10, horizon).top(5)
	for i, w := range want {
		if g := hot.GetTerms()[i]; g.GetTerm() != w.Term || g.GetCount() != w.Count {
			t.Errorf("term %d: %s %d, want %s %d", i, g.GetTerm(), g.GetCount(), w.Term, w.Count)
		}
	}
	// Batch runs again: every answer is new, and repeated as well.
	writeHorizon(t, sc.db, topic, horizon, time.Now().UTC().Add(time.Minute))
	if err := sc.srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	again := ask()
	for name, m := range got {
		if !proto.Equal(m, again[name]) && name != "Status" {
			t.Errorf("%s after a batch run that changed nothing: %v, want %v", name, again[name], m)
		}
	}
}
