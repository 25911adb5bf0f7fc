package speed

import (
	"context"
	"log/slog"
	"strings"
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
