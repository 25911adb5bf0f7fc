package speed

import (
	"fmt"
	"hash/fnv"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/schemas/event"
)

// BenchmarkMemory measures the speed layer's state at 10 M distinct users
// a day (issue 20.7 asks < 512 MiB for speed alone): the demo generator's
// traffic at 10 M / 86,400 s events per second of event time over 4
// partitions, every event a user (and an IP) never seen before, applied
// with every view on (patterns included) by the speed layer's own apply,
// and nothing flushed: each partition ends holding maxHeldPanes panes,
// the most Run lets a partition hold (backpressure) while it reads a
// backlog, the worst case; a live partition holds only the panes within
// the lateness. Reported: the live heap the state holds after a GC
// (held-MiB, beside the limit in limit-MiB), per pane and partition
// (KiB/pane), and the state of the panes within the default lateness
// (live-MiB: lateness / pane + 1 panes per partition).
//
// The figure is the layer's state; a speed process also holds the Kafka
// client's fetch buffers (franz-go's FetchMaxBytes, 50 MiB by default)
// and the decoded chunks of a poll (applyChunk events per worker).
//
//	go test ./speed/ -run '^$' -bench BenchmarkMemory -benchtime 1x
func BenchmarkMemory(b *testing.B) {
	const (
		partitions = 4
		usersADay  = 10_000_000
		limitMiB   = 512
	)
	maxHeld := defaultCfg().maxHeld
	for b.Loop() {
		s, err := New(&mongo.Database{}, []string{"unused"}, settings.Logger(quietLogger()))
		if err != nil {
			b.Fatal(err)
		}
		parts := make([]*partition, partitions)
		for i := range parts {
			parts[i] = newPartition(testTopic, int32(i))
			if err := parts[i].restoreMiner(nil); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		// maxHeld panes of event time, and a little more so that every
		// partition opens its last one.
		span := time.Duration(maxHeld)*s.cfg.Pane - s.cfg.Pane/2
		rate := float64(usersADay) / 86400
		g, err := gen.New(gen.Seed(1), gen.Rate(rate), gen.Start(start), gen.Count(int64(span.Seconds()*rate)))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var ev event.Event
		var t tally
		offs := make([]int64, partitions)
		user := make([]byte, 0, 16)
		for n := 0; !g.Done(); n++ {
			r := g.Next()
			h := fnv.New32a()
			h.Write(r.Key)
			pi := h.Sum32() % partitions
			s.dec.Decode(&ev, &kgo.Record{Value: r.Line, Timestamp: r.Time, Partition: int32(pi), Offset: offs[pi]})
			// A new visitor every event: user, UV and IP never seen before.
			user = strconv.AppendInt(append(user[:0], 'u'), int64(n), 10)
			ev.User, ev.UV = string(user), string(user)
			ev.IP = fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
			parts[pi].apply(&ev, offs[pi], s, &t)
			offs[pi]++
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		held := 0
		for _, p := range parts {
			held += len(p.panes)
		}
		runtime.KeepAlive(parts)
		bytes := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		perPane := bytes / float64(held)
		live := int(s.cfg.Lateness/s.cfg.Pane) + 1
		b.ReportMetric(bytes/(1<<20), "held-MiB")
		b.ReportMetric(limitMiB, "limit-MiB")
		b.ReportMetric(float64(held), "panes")
		b.ReportMetric(perPane/(1<<10), "KiB/pane")
		b.ReportMetric(perPane*float64(live*partitions)/(1<<20), "live-MiB")
		b.ReportMetric(float64(t.events)/float64(held), "events/pane")
	}
}
