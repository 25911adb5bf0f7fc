package speed

import (
	"sync"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// TestFlushAtVolume writes one flush of more than 2,000 documents per view,
// then, after a restart, a second stream over the same panes whose flush
// replaces every one of those documents: the write that wedged the
// embedded store when it went out as one command. The documents must hold
// exactly what the generated lines say (expect), both times.
func TestFlushAtVolume(t *testing.T) {
	skipVolume(t)
	const parts, perPart = 4, 3500
	st := startStack(t, parts)
	// An event every 10 s on average: about 580 panes per partition, each
	// with a few events. No pane becomes final (lateness far beyond the
	// stream), so the second stream's events land in the first's panes.
	first := generate(11, parts, perPart, 20*time.Second)
	second := generate(12, parts, perPart, 20*time.Second)
	const lateness = 1000 * time.Hour

	var mu sync.Mutex
	var cmds []replace.Command
	w, err := replace.New(replace.OnCommand(func(c replace.Command) {
		mu.Lock()
		cmds = append(cmds, c)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	// firstFlush sums the documents per collection of the commands up to
	// the last checkpoint of the first flush (one per partition), and
	// forgets them.
	firstFlush := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		cks := 0
		for _, c := range cmds {
			if cks == parts {
				break
			}
			out[c.Collection] += c.Docs
			if c.Collection == collections.CheckpointCollection {
				cks++
			}
		}
		cmds = nil
		return out
	}
	run := func(lines [][]genLine, want map[int32]int64) {
		// The first flush comes after the interval; the stream is applied
		// well before, so that flush holds every pane.
		s, err := New(st.db("volume"), st.kafka.Addrs(), Group("volume"), HotCapacity(testHotCap),
			settings.Lateness(lateness), FlushInterval(15*time.Second), settings.Writer(w), settings.Logger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		runToEndWithin(t, s, want, 10*time.Minute) // a restart shows no progress while it reads its state back
	}
	check := func(lines [][]genLine, what string) {
		flushed := firstFlush()
		t.Logf("%s: first flush wrote %v", what, flushed)
		for _, view := range views.Names {
			if n := flushed[collections.SpeedCollection(view)]; n < 2000 {
				t.Errorf("%s: first flush wrote %d %s documents, want >= 2000", what, n, view)
			}
		}
		wantPanes, wantParts := expect(lines, views.DefaultPane, lateness)
		checkPanes(t, readPanes(t, st.db("volume")), wantPanes, testHotCap)
		checkCheckpoints(t, readCheckpoints(t, st.db("volume")), wantParts)
	}

	st.produce(t, first, 1<<20)
	start := time.Now()
	run(first, lastOffsets(first))
	check(first, "first stream")
	t.Logf("first stream: %s", time.Since(start))

	st.produceFrom(t, second, 1<<20, perPart)
	both := make([][]genLine, parts)
	for p := range both {
		both[p] = append(append([]genLine(nil), first[p]...), second[p]...)
	}
	start = time.Now()
	run(both, lastOffsets(both))
	check(both, "second stream over the same panes")
	t.Logf("second stream: %s", time.Since(start))
}
