package speed

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSpeedRebalance runs two members of one group: the second joins while
// the first is mid-stream (partitions move between them, revoked ones are
// flushed and resumed by the other), then the first leaves mid-stream.
// The result must equal the input's expected documents exactly as a
// single member's would.
func TestSpeedRebalance(t *testing.T) {
	st := startStack(t, testPartitions)
	lines := generate(4, testPartitions, testPerPart, 800*time.Millisecond)
	half := testPerPart / 2
	first, second := make([][]genLine, len(lines)), make([][]genLine, len(lines))
	for p, ls := range lines {
		first[p], second[p] = ls[:half], ls[half:]
	}
	st.produce(t, first, 8)
	want := lastOffsets(lines)
	small := settings.KafkaOpts(kgo.FetchMaxBytes(4<<10), kgo.FetchMaxPartitionBytes(2<<10))
	newMember := func() *Speed {
		s, err := New(st.db("pair"), st.kafka.Addrs(), Group("pair"), HotCapacity(testHotCap),
			FlushInterval(10*time.Millisecond), settings.Logger(quietLogger()), small)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := newMember()
	ctxA, cancelA := context.WithCancel(context.Background())
	doneA := make(chan error, 1)
	go func() { doneA <- a.Run(ctxA) }()
	waitAssigned(t, a, doneA)
	time.Sleep(20 * time.Millisecond)

	b := newMember()
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	doneB := make(chan error, 1)
	go func() { doneB <- b.Run(ctxB) }()
	// Wait until the group has split the partitions between the two.
	deadline := time.Now().Add(2 * time.Minute) // a loaded machine rebalances later
	for len(b.Stats().Partitions) == 0 || len(a.Stats().Partitions) == testPartitions {
		if time.Now().After(deadline) {
			t.Fatalf("partitions not shared after 2 min: a %v b %v", offsets(a.Stats()), offsets(b.Stats()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("shared: a %v, b %v", offsets(a.Stats()), offsets(b.Stats()))
	// The rest of the stream arrives while both consume; a leaves during it.
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		st.produceFrom(t, second, 8, int64(half))
	}()
	time.Sleep(40 * time.Millisecond)
	mid := !caughtUp(a.Stats(), want)
	cancelA()
	if err := <-doneA; err != nil {
		t.Fatalf("member a: %v", err)
	}
	if !mid {
		t.Log("member a had caught up before leaving: the hand-over was not mid-stream")
	}
	<-produced
	testkit.Await(t, 2*time.Minute, "member b to catch up", func() error {
		if st := b.Stats(); !caughtUp(st, want) {
			return fmt.Errorf("member b not caught up: %+v", st)
		}
		return nil
	})
	cancelB()
	if err := <-doneB; err != nil {
		t.Fatalf("member b: %v", err)
	}
	exp, expParts := expect(lines, time.Minute, settings.DefaultLateness)
	checkPanes(t, readPanes(t, st.db("pair")), exp, testHotCap)
	checkCheckpoints(t, readCheckpoints(t, st.db("pair")), expParts)
}
