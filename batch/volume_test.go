package batch

import (
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
)

// TestRecomputeDay recomputes 24 hours of panes in one run (1,440 panes per
// view, written through the writer in commands of at most 64 documents),
// then two hours again over their existing documents after late data marks
// them dirty; the views must hold exactly what the generated records say,
// both times.
func TestRecomputeDay(t *testing.T) {
	testkit.SkipShort(t, "volume")
	ctx := testkit.Context(t, 5*time.Minute)
	s := newStack(t)
	end := base.Add(24 * time.Hour)
	s.now = end.Add(10 * time.Minute)
	all := generate(21, 24*60*6, base, end) // ~6 records per pane
	s.produce(ctx, all)
	start := time.Now()
	sum, err := s.batch().Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run: %d hours, %d panes, %d docs in %s", len(sum.Recompute.Hours), sum.Recompute.Panes, sum.Recompute.Docs, time.Since(start))
	if len(sum.Recompute.Hours) != 24 || sum.Recompute.Panes < 24*60 {
		t.Fatalf("recomputed %d hours, %d panes; want 24 hours, 1440 panes", len(sum.Recompute.Hours), sum.Recompute.Panes)
	}
	s.checkViews(ctx, all, base, end)

	// Late records in two hours: those hours dirty, their documents
	// replaced.
	late := generate(22, 2*60, base.Add(5*time.Hour), base.Add(7*time.Hour))
	for i := range late {
		late[i].ingest = end.Add(5 * time.Minute)
		if late[i].malformed || late[i].noTime {
			late[i].at = late[i].ingest
		}
	}
	s.produce(ctx, late)
	all = append(all, late...)
	start = time.Now()
	sum, err = s.batch().Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second run: %d hours (%d dirty), %d docs in %s", len(sum.Recompute.Hours), sum.Recompute.DirtyHours, sum.Recompute.Docs, time.Since(start))
	if sum.Recompute.DirtyHours != 2 {
		t.Errorf("%d dirty hours recomputed, want 2", sum.Recompute.DirtyHours)
	}
	s.checkViews(ctx, all, base, end)
	if h := s.horizon(ctx); !h.Horizon.Equal(end) {
		t.Errorf("horizon %s, want %s", h.Horizon, end)
	}
}
