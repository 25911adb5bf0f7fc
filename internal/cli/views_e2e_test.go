package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// What the end-to-end tests of one view share: the stack over generated
// traffic, and batch's pane states checked against speed's.

// viewStack is a stack fed with generated traffic that speed has applied.
type viewStack struct {
	st  *stack
	ctx context.Context
	web *httptest.Server
	// recs are the records sent, in order.
	recs []gen.Record
}

// startViewStack starts a stack of 4 partitions and the given panes whose
// batch runs at batchNow, sends it the lines of seed's generator from t0
// to end at rate a second, and waits until speed has applied them all,
// none late.
func startViewStack(t *testing.T, pane time.Duration, seed int64, rate float64, t0, end, batchNow time.Time) *viewStack {
	t.Helper()
	st, ctx, web := startStack(t, upConfig{
		partitions: 4,
		viewFlags:  viewFlags{pane: pane},
		batchNow:   func() time.Time { return batchNow },
	})
	recs := sendGenerated(t, ctx, st, seed, rate, t0, int64(end.Sub(t0).Seconds()*rate))
	var status statusAnswer
	waitApplied(t, ctx, st.serving, web.URL, int64(len(recs)), 150*time.Second, &status)
	if status.LateDropped != 0 {
		t.Fatalf("late dropped %d: want none", status.LateDropped)
	}
	return &viewStack{st: st, ctx: ctx, web: web, recs: recs}
}

// sendGenerated sends count lines of seed's generator from t0, in order
// (no disorder, nothing late), to the stack's topic and returns them.
func sendGenerated(t *testing.T, ctx context.Context, st *stack, seed int64, rate float64, t0 time.Time, count int64) []gen.Record {
	t.Helper()
	g, err := gen.New(gen.Seed(seed), gen.Rate(rate), gen.Start(t0), gen.Count(count), gen.OutOfOrder(0), gen.Late(0))
	if err != nil {
		t.Fatal(err)
	}
	sink, err := newKafkaSink(ctx, st.kafka.Addrs(), "logs")
	if err != nil {
		t.Fatal(err)
	}
	rec := &collectSink{next: sink}
	if _, err := feed(ctx, g, rec, feedOpts{}); err != nil {
		t.Fatal(err)
	}
	return rec.recs
}

// batchEqualsSpeed reads speed's documents of view, runs batch, and
// checks that every batch document's state equals, byte for byte, the
// merge of speed's states of its pane over the partitions; it returns the
// number of panes compared, then refreshes the server.
func (vs *viewStack) batchEqualsSpeed(t *testing.T, view string) int {
	t.Helper()
	speed := map[time.Time]*views.Pane{}
	for _, d := range viewDocs(t, vs.ctx, vs.st.db.Collection(collections.SpeedCollection(view))) {
		p := views.NewPane(0)
		if err := p.Decode(view, d.State); err != nil {
			t.Fatal(err)
		}
		if speed[d.Pane.UTC()] == nil {
			speed[d.Pane.UTC()] = views.NewPane(0)
		}
		speed[d.Pane.UTC()].Merge(p)
	}
	if _, err := vs.st.batch.Run(vs.ctx); err != nil {
		t.Fatalf("batch run: %v", err)
	}
	compared := 0
	for _, d := range viewDocs(t, vs.ctx, vs.st.db.Collection(collections.BatchCollection(view))) {
		sp := speed[d.Pane.UTC()]
		if sp == nil {
			t.Errorf("pane %s: batch has %s, speed none", d.Pane.UTC(), view)
			continue
		}
		if enc, err := sp.Encode(view); err != nil || !bytes.Equal(d.State, enc) {
			t.Errorf("pane %s: batch's %s state differs from speed's (%v)", d.Pane.UTC(), view, err)
		}
		compared++
	}
	if err := vs.st.serving.Refresh(vs.ctx); err != nil {
		t.Fatal(err)
	}
	return compared
}
