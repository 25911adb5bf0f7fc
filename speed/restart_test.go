package speed

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/twmb/franz-go/pkg/kgo"
)

// stopMode is how a run of the restart test ends.
type stopMode string

const (
	stopCancel stopMode = "cancel"           // graceful: exit flush, leave group
	stopKill   stopMode = "kill"             // no exit flush, state lost
	stopCrash  stopMode = "crash-after-docs" // documents written, checkpoint not
)

// slowFetch is a Kafka client hook that pauses after each record batch the
// client reads, pacing the stream independently of how fast it is applied.
type slowFetch time.Duration

func (d slowFetch) OnFetchBatchRead(kgo.BrokerMetadata, string, int32, kgo.FetchBatchMetrics) {
	time.Sleep(time.Duration(d))
}

// TestSpeedRestart stops the layer at random points of the stream, in every
// way it can stop, restarts it, and checks that the final documents and
// checkpoints equal those of one uninterrupted run (which reads with other
// fetch sizes, so batching does not matter either).
func TestSpeedRestart(t *testing.T) {
	st := startStack(t, testPartitions)
	lines := generate(2, testPartitions, testPerPart, 800*time.Millisecond)
	st.produce(t, lines, 8)
	want := lastOffsets(lines)

	ref, err := New(st.db("ref"), st.kafka.Addrs(), Group("ref"), HotCapacity(testHotCap),
		FlushInterval(50*time.Millisecond), settings.Logger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	runToEnd(t, ref, want)

	// Small, slowed fetches make the stream take many polls and flushes
	// (about a second in all), so that the stops land in the middle of it
	// however fast the layer applies records.
	small := settings.KafkaOpts(kgo.FetchMaxBytes(4<<10), kgo.FetchMaxPartitionBytes(2<<10),
		kgo.WithHooks(slowFetch(time.Millisecond)))
	rng := rand.New(rand.NewPCG(3, 3))
	modes := []stopMode{stopCancel, stopKill, stopCrash}
	midStream := map[stopMode]int{}
	for i := range 12 {
		mode := modes[i%len(modes)]
		opts := []Opt{Group("restart"), HotCapacity(testHotCap), settings.Logger(quietLogger()), small,
			FlushInterval(time.Duration(5+rng.IntN(30)) * time.Millisecond)}
		abort := make(chan struct{})
		switch mode {
		case stopKill:
			opts = append(opts, withAbort(abort))
		case stopCrash:
			n, calls := 1+rng.IntN(4), 0
			opts = append(opts, withAfterDocs(func() error {
				if calls++; calls >= n {
					return errCrash
				}
				return nil
			}))
		}
		s, err := New(st.db("restart"), st.kafka.Addrs(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		waitAssigned(t, s, done)
		delay := time.Duration(rng.IntN(40)) * time.Millisecond
		if mode == stopCrash {
			delay = 3 * time.Second // it stops by itself
		}
		var runErr error
		ended := false
		select {
		case runErr = <-done:
			ended = true
		case <-time.After(delay):
		}
		snap := s.Stats()
		if !ended {
			switch mode {
			case stopKill:
				close(abort)
			}
			cancel()
			if !ended {
				runErr = <-done
			}
		}
		cancel()
		switch {
		case mode == stopKill && !errors.Is(runErr, errAborted),
			mode == stopCrash && runErr != nil && !errors.Is(runErr, errCrash),
			mode == stopCancel && runErr != nil:
			t.Fatalf("run %d (%s): Run returned %v", i, mode, runErr)
		}
		// A crash stops with dirty panes by definition (it happens in a
		// flush that wrote some); the others must have stopped short.
		if errors.Is(runErr, errCrash) || (mode != stopCrash && !caughtUp(snap, want) && len(snap.Partitions) > 0) {
			midStream[mode]++
		}
		t.Logf("run %d: %s after %s (err %v), offsets %v", i, mode, delay, runErr, offsets(snap))
	}
	final, err := New(st.db("restart"), st.kafka.Addrs(), Group("restart"), HotCapacity(testHotCap),
		FlushInterval(20*time.Millisecond), settings.Logger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	runToEnd(t, final, want)
	for _, m := range modes {
		if midStream[m] == 0 {
			t.Errorf("no %s stop landed mid-stream; the test proves nothing for it", m)
		}
	}

	got, wantPanes := readPanes(t, st.db("restart")), readPanes(t, st.db("ref"))
	comparePanes(t, got, wantPanes)
	gotCk, wantCk := readCheckpoints(t, st.db("restart")), readCheckpoints(t, st.db("ref"))
	for p, w := range wantCk {
		g := gotCk[p]
		if g.Offset != w.Offset || g.WatermarkNS != w.WatermarkNS || g.MaxEventTimeNS != w.MaxEventTimeNS ||
			g.Events != w.Events || g.ParseErrors != w.ParseErrors || g.LateDropped != w.LateDropped ||
			g.HighWatermark != w.HighWatermark {
			t.Errorf("partition %d: checkpoint after restarts %+v, uninterrupted %+v", p, g, w)
		}
	}
	// And both against the input itself.
	exp, expParts := expect(lines, time.Minute, settings.DefaultLateness)
	checkPanes(t, got, exp, testHotCap)
	checkCheckpoints(t, gotCk, expParts)
}

// waitAssigned waits until s holds partitions, or Run ended.
func waitAssigned(t *testing.T, s *Speed, done chan error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // a loaded machine joins the group later
	for len(s.Stats().Partitions) < testPartitions {
		if time.Now().After(deadline) {
			t.Fatalf("no partitions assigned after 2 min")
		}
		select {
		case err := <-done:
			done <- err // the caller reads it
			return
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func offsets(st Stats) map[int32]int64 {
	m := map[int32]int64{}
	for _, p := range st.Partitions {
		m[p.Partition] = p.Offset
	}
	return m
}

// comparePanes checks that two sets of stored panes are the same states:
// counters, hot summaries (terms, counts, errors, floor), sketch estimates
// and offsets.
func comparePanes(t *testing.T, got, want map[string]*storedPane) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, g := want[k], got[k]
		if g == nil {
			t.Errorf("pane %s: missing after restarts", k)
			continue
		}
		if !reflect.DeepEqual(g.offsets, w.offsets) {
			t.Errorf("pane %s: offsets %v, uninterrupted %v", k, g.offsets, w.offsets)
		}
		gt, wt := g.pane.Traffic, w.pane.Traffic
		if gt.PV != wt.PV || gt.Status != wt.Status || gt.Bytes != wt.Bytes || gt.Latency != wt.Latency ||
			gt.LatencySum != wt.LatencySum || gt.UV.Estimate() != wt.UV.Estimate() || gt.IPs.Estimate() != wt.IPs.Estimate() {
			t.Errorf("pane %s: traffic pv %d uv %d ips %d status %v, uninterrupted pv %d uv %d ips %d status %v",
				k, gt.PV, gt.UV.Estimate(), gt.IPs.Estimate(), gt.Status, wt.PV, wt.UV.Estimate(), wt.IPs.Estimate(), wt.Status)
		}
		gb, _ := g.pane.Levels.MarshalBinary()
		wb, _ := w.pane.Levels.MarshalBinary()
		if !bytes.Equal(gb, wb) {
			t.Errorf("pane %s: levels %v, uninterrupted %v", k, g.pane.Levels.Summary(), w.pane.Levels.Summary())
		}
		gc, _ := g.pane.Clusters.MarshalBinary()
		wc, _ := w.pane.Clusters.MarshalBinary()
		if !bytes.Equal(gc, wc) {
			t.Errorf("pane %s: clusters %v, uninterrupted %v", k, g.pane.Clusters.Summary(), w.pane.Clusters.Summary())
		}
		gp, _ := g.pane.Patterns.MarshalBinary()
		wp, _ := w.pane.Patterns.MarshalBinary()
		if !bytes.Equal(gp, wp) {
			t.Errorf("pane %s: patterns %v, uninterrupted %v", k, g.pane.Patterns.Summary(), w.pane.Patterns.Summary())
		}
		gh, wh := g.pane.Hot, w.pane.Hot
		if gh.Floor() != wh.Floor() || !reflect.DeepEqual(gh.Top(0), wh.Top(0)) {
			t.Errorf("pane %s: hot floor %d top %v, uninterrupted floor %d top %v", k, gh.Floor(), gh.Top(5), wh.Floor(), wh.Top(5))
		}
	}
	for k := range got {
		if want[k] == nil {
			t.Errorf("pane %s: extra after restarts", k)
		}
	}
}
