package batch

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest/ingesttest"
)

// TestDecodeCases feeds the awkward records of ingesttest through
// compaction's own path (a shard, then Parquet files in the lake, read
// back) and checks each row and the counts against the expectations that
// speed's TestDecodeCases checks its events against.
func TestDecodeCases(t *testing.T) {
	b, err := New(nil, []string{"unused"}, t.TempDir(), settings.Logger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		t.Fatal(err)
	}
	m := lake.NewManifest(b.cfg.Topic)
	m.Partition(0)
	r := newShard(context.Background(), b, m)
	defer r.abort()
	recs := ingesttest.Records(b.cfg.Topic, 0)
	r.in <- recs
	close(r.in)
	if err := r.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sum := r.sum
	byOffset := map[int64]event.Event{}
	for _, f := range r.files {
		evs, err := b.lake.ReadFile(context.Background(), f.Path)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			byOffset[ev.Offset] = ev
		}
	}
	cases := ingesttest.Cases()
	if len(byOffset) != len(cases) {
		t.Fatalf("%d rows in the lake, want %d", len(byOffset), len(cases))
	}
	for i, c := range cases {
		ev := byOffset[int64(i)]
		ingesttest.Check(t, c, &ev)
	}
	events, parseErrors := ingesttest.Counts()
	if sum.Records != events || sum.Rows != events || sum.ParseErrors != parseErrors {
		t.Errorf("batch counted %d records, %d rows, %d parse errors; want %d, %d and %d",
			sum.Records, sum.Rows, sum.ParseErrors, events, events, parseErrors)
	}
}
