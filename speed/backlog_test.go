package speed

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
)

// TestBacklogWhenMongoDown stops MongoDB under a running speed layer: its
// backlog must say what waits (documents, oldest pane) and since when
// writes fail, and the log must say it once, not once per failed flush.
func TestBacklogWhenMongoDown(t *testing.T) {
	st := startStack(t, 2)
	m, err := embedded.StartMongo(embedded.MongoConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	mc, err := mongo.Connect(options.Client().ApplyURI(m.URI()).SetServerSelectionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(context.Background())
	var logs testkit.SyncBuffer
	w, err := replace.New(replace.CommandTimeout(500 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(mc.Database("down"), st.kafka.Addrs(), Group("down"), FlushInterval(100*time.Millisecond), settings.Writer(w),
		settings.Logger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	lines := generate(31, 2, 200, 800*time.Millisecond)
	st.produce(t, lines, 1<<20)
	testkit.Await(t, 2*time.Minute, "speed to catch up", func() error {
		if st := s.Stats(); !caughtUp(st, lastOffsets(lines)) {
			return fmt.Errorf("not caught up: %+v", st)
		}
		return nil
	})
	m.Close() // MongoDB goes away
	st.produceFrom(t, generate(32, 2, 100, 800*time.Millisecond), 1<<20, 200)
	time.Sleep(4 * time.Second) // several flush intervals, all failing
	bl := s.Backlog()
	if bl.PendingDocs == 0 || bl.OldestPending.IsZero() || bl.FailingSince.IsZero() || bl.LastError == "" {
		t.Fatalf("backlog with MongoDB down: %+v", bl)
	}
	errLines := strings.Count(logs.String(), "level=ERROR")
	if errLines != 1 {
		t.Errorf("%d ERROR lines in 4 s of failing flushes, want 1 (once per %s):\n%s", errLines, backlogReportEvery, logs.String())
	}
	if !strings.Contains(logs.String(), "pending_docs=") || !strings.Contains(logs.String(), "oldest_pending_pane=") {
		t.Errorf("the ERROR line does not say how far behind:\n%s", logs.String())
	}
	t.Logf("backlog: %+v", bl)
}
