package speed

import (
	"bytes"
	"context"
	"fmt"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/testkit"
)

// TestFencing plays a member that lost its partitions without knowing: A
// runs (its own group, so nothing tells it) over the first half of the
// stream; B is then assigned every partition in another group and claims
// them, as the next owner in A's group would after A's session expired;
// the second half arrives and A, still running, applies it and flushes.
// A must write nothing (the stored checkpoints stay at the first half's
// end with B's epoch, no document holds an offset of the second half),
// log what it refused per partition, and drop the partitions. B then
// consumes the rest, and the documents equal those of one uninterrupted
// run.
func TestFencing(t *testing.T) {
	st := startStack(t, testPartitions)
	lines := generate(5, testPartitions, testPerPart, 800*time.Millisecond)
	half := testPerPart / 2
	first, second := make([][]genLine, len(lines)), make([][]genLine, len(lines))
	for p, ls := range lines {
		first[p], second[p] = ls[:half], ls[half:]
	}
	st.produce(t, first, 64)
	wantFirst, want := lastOffsets(first), lastOffsets(lines)

	var zlog testkit.SyncBuffer
	zombie, err := New(st.db("fence"), st.kafka.Addrs(), Group("zombie"), HotCapacity(testHotCap), FlushInterval(20*time.Millisecond),
		settings.Logger(slog.New(slog.NewTextHandler(&zlog, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- zombie.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(45 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("waiting 45s for %s; zombie stats %+v; log:\n%s", what, zombie.Stats(), zlog.String())
			}
		}
	}
	waitFor("the zombie to checkpoint the first half", func() bool { return caughtUp(zombie.Stats(), wantFirst) })

	owner := func() *Speed {
		s, err := New(st.db("fence"), st.kafka.Addrs(), Group("owner"), HotCapacity(testHotCap), FlushInterval(20*time.Millisecond),
			settings.Logger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	runToEnd(t, owner(), wantFirst) // claims every partition, writes them, leaves
	claimed := readCheckpoints(t, st.db("fence"))
	for p, ck := range claimed {
		if ck.Epoch != 2 || ck.Offset != wantFirst[p] {
			t.Fatalf("partition %d after the new owner: epoch %d offset %d, want epoch 2 (zombie 1, owner 2) offset %d", p, ck.Epoch, ck.Offset, wantFirst[p])
		}
	}

	st.produceFrom(t, second, 64, int64(half))
	waitFor("the zombie to drop every partition", func() bool { return len(zombie.Stats().Partitions) == 0 })
	if zombie.Stats().Events <= int64(testPartitions*half) {
		t.Fatalf("the zombie applied %d events, not the second half: the test proves nothing", zombie.Stats().Events)
	}
	for p, ck := range readCheckpoints(t, st.db("fence")) {
		if ck.Epoch != 2 || ck.Offset != wantFirst[p] {
			t.Errorf("partition %d: checkpoint epoch %d offset %d after the zombie's flushes, want 2 and %d", p, ck.Epoch, ck.Offset, wantFirst[p])
		}
	}
	for k, sp := range readPanes(t, st.db("fence")) {
		var p int32
		if i := strings.LastIndex(k, "|p"); i >= 0 {
			for _, c := range k[i+2:] {
				p = p*10 + int32(c-'0')
			}
		}
		for view, off := range sp.offsets {
			if off > wantFirst[p] {
				t.Errorf("pane %s %s: offset %d written, past the first half's %d: the zombie wrote", k, view, off, wantFirst[p])
			}
		}
	}
	log := zlog.String()
	for p := range int32(testPartitions) {
		if !strings.Contains(log, "refused to write a partition another member owns now") || !strings.Contains(log, "partition="+string(rune('0'+p))+" our_epoch=1 stored_epoch=2") {
			t.Errorf("no refusal logged for partition %d:\n%s", p, log)
		}
	}

	// The owner takes the rest; the result is the uninterrupted run's.
	runToEnd(t, owner(), want)
	ref, err := New(st.db("ref"), st.kafka.Addrs(), Group("ref"), HotCapacity(testHotCap), FlushInterval(50*time.Millisecond),
		settings.Logger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	runToEnd(t, ref, want)
	comparePanes(t, readPanes(t, st.db("fence")), readPanes(t, st.db("ref")))
}

// TestFencingWindow stops a member between the last check of its epoch it
// makes and the send of a command (where a SIGSTOP past its session would
// have to hit), once before its first command of documents and once before
// its first checkpoint, lets another process claim every partition and
// write the stream, then resumes it. The store must refuse what the zombie
// sends over the new owner's writes: every document and checkpoint the new
// owner wrote is unchanged afterwards (its epoch, offset and state), and
// the zombie logs the refusal and drops its partitions.
func TestFencingWindow(t *testing.T) {
	for _, what := range []string{"docs", "checkpoint"} {
		t.Run(what, func(t *testing.T) { fencingWindow(t, what) })
	}
}

func fencingWindow(t *testing.T, what string) {
	st := startStack(t, testPartitions)
	lines := generate(6, testPartitions, testPerPart/2, 800*time.Millisecond)
	st.produce(t, lines, 64)
	want := lastOffsets(lines)
	db := st.db("fence")

	stopped, resume := make(chan int32, 1), make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(resume) }) }
	defer release()
	var zlog testkit.SyncBuffer
	zombie, err := New(db, st.kafka.Addrs(), Group("zombie"), HotCapacity(testHotCap), FlushInterval(20*time.Millisecond),
		settings.Logger(slog.New(slog.NewTextHandler(&zlog, nil))),
		withBeforeSend(func(p int32, w string) {
			if w != what {
				return
			}
			select {
			case stopped <- p: // the first such command only
				<-resume
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- zombie.Run(ctx) }()
	defer func() { cancel(); release(); <-done }()
	var part int32
	select {
	case part = <-stopped:
	case <-time.After(45 * time.Second):
		t.Fatalf("the zombie sent no %s command within 45s; log:\n%s", what, zlog.String())
	}

	owner, err := New(db, st.kafka.Addrs(), Group("owner"), HotCapacity(testHotCap), FlushInterval(20*time.Millisecond),
		settings.Logger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	runToEnd(t, owner, want) // claims every partition (epoch 2) and writes them
	before := rawSpeedDocs(t, db)
	owned := 0
	for _, d := range before {
		if d.Epoch == 2 {
			owned++
		}
	}
	if owned == 0 {
		t.Fatal("the new owner wrote no document: the test proves nothing")
	}
	release()
	for end := time.Now().Add(45 * time.Second); len(zombie.Stats().Partitions) > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the zombie kept its partitions 45s after resuming; log:\n%s", zlog.String())
		}
	}
	after := rawSpeedDocs(t, db)
	for id, b := range before {
		a := after[id]
		if b.Epoch == 2 && (a.Epoch != b.Epoch || a.Offset != b.Offset || !bytes.Equal(a.State, b.State)) {
			t.Errorf("%s: the new owner's document (epoch 2, offset %d) overwritten: epoch %d offset %d", id, b.Offset, a.Epoch, a.Offset)
		}
	}
	for p, ck := range readCheckpoints(t, db) {
		if ck.Epoch != 2 || ck.Offset != want[p] {
			t.Errorf("partition %d: checkpoint epoch %d offset %d after the zombie resumed, want the new owner's: epoch 2, offset %d", p, ck.Epoch, ck.Offset, want[p])
		}
	}
	if log := zlog.String(); !strings.Contains(log, fmt.Sprintf("partition=%d our_epoch=1 stored_epoch=2", part)) {
		t.Errorf("no refusal logged for partition %d:\n%s", part, log)
	}
	t.Logf("%d documents of the new owner kept; the zombie's log: %s", owned, zlog.String())
}

// rawSpeedDocs reads every speed document of db by collection and _id.
func rawSpeedDocs(t *testing.T, db *mongo.Database) map[string]collections.Doc {
	t.Helper()
	out := map[string]collections.Doc{}
	for _, view := range views.Names {
		coll := collections.SpeedCollection(view)
		for _, d := range testkit.All[collections.Doc](t, db.Collection(coll)) {
			out[coll+"/"+d.ID] = d
		}
	}
	return out
}
