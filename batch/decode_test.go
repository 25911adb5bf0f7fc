package batch

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
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
	if err := r.run(context.Background(), func(error) {}); err != nil {
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

// TestShardWriteError checks that an error of a shard's write stage
// reaches the run: it cancels the run's context at once (so the fetch
// stops sending), both stages drain what was sent and end, and run
// returns the error. The lake's topic directory is a plain file, so the
// first file of the run cannot be created.
func TestShardWriteError(t *testing.T) {
	dir := t.TempDir()
	b, err := New(nil, []string{"unused"}, dir, settings.Logger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		t.Fatal(err)
	}
	topicDir := filepath.Join(dir, b.cfg.Topic)
	if err := os.RemoveAll(topicDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(topicDir, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := lake.NewManifest(b.cfg.Topic)
	m.Partition(0)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	r := newShard(ctx, b, m)
	defer r.abort()
	done := make(chan error, 1)
	go func() { done <- r.run(ctx, cancel) }()
	recs := ingesttest.Records(b.cfg.Topic, 0)
	sent := 0
send:
	for range 1000 {
		select {
		case r.in <- recs:
			sent++
		case <-ctx.Done():
			break send
		}
	}
	close(r.in)
	err = <-done
	if err == nil {
		t.Fatal("run returned no error with an unwritable lake")
	}
	if c := context.Cause(ctx); c != err {
		t.Errorf("the run's context was cancelled with %v, want the write error %v", c, err)
	}
	t.Logf("sent %d: %v", sent, err)
	if sent == 1000 {
		t.Errorf("the sender was never stopped: %d slices sent", sent)
	}
	if len(r.files) != 0 {
		t.Errorf("%d files committed with an unwritable lake", len(r.files))
	}
}
