package speed

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
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

// BenchmarkProcessRSS measures a `loglambda speed` process, built from
// this module, reading a backlog of 10 M distinct users a day (issue 20.7
// asks < 512 MiB for speed alone): 4.5 hours of event time (more than the
// maxHeldPanes panes a partition may hold while reading a backlog) at 10 M
// / 86,400 events per second over 4 partitions of the embedded broker,
// every event a user and an IP never seen before, with the command's
// defaults (every view on, patterns and clusters included; its
// --memory-limit-mib), GOMEMLIMIT unset.
// It waits until every partition's checkpoint is at its end and reports
// the process's peak resident memory (the kernel's VmHWM) beside the limit.
//
//	go test ./speed/ -run '^$' -bench BenchmarkProcessRSS -benchtime 1x
func BenchmarkProcessRSS(b *testing.B) {
	const (
		partitions = 4
		usersADay  = 10_000_000
		limitMiB   = 512
		span       = 270 * time.Minute
	)
	bin := filepath.Join(b.TempDir(), "loglambda")
	if out, err := testkit.Command("go", "build", "-o", bin, "github.com/loglambda/loglambda").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	m := testkit.Mongo(b, embedded.MongoConfig{})
	st := &stack{kafka: testkit.Kafka(b, testTopic, partitions), client: testkit.Client(b, m.URI())}
	rate := float64(usersADay) / 86400
	n := int(span.Seconds() * rate)
	produceVisitors(b, st, partitions, n, rate)
	want := map[int32]int64{}
	for p := range int32(partitions) {
		want[p] = int64((n-int(p)+partitions-1)/partitions) - 1
	}
	run := 0
	for b.Loop() {
		run++
		group := fmt.Sprintf("rss%d", run)
		cmd := testkit.Command(bin, "speed", "--brokers", strings.Join(st.kafka.Addrs(), ","), "--mongo-uri", m.URI(),
			"--mongo-db", group, "--group", group, "--instance-id", "")
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "GOMEMLIMIT=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Minute)
		for !checkpointedAll(b, st.db(group), want) {
			if time.Now().After(deadline) {
				testkit.Kill(cmd)
				_ = cmd.Wait()
				b.Fatal("speed process not caught up after 15 minutes")
			}
			time.Sleep(500 * time.Millisecond)
		}
		hwm := procStatusKiB(b, cmd.Process.Pid, "VmHWM")
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
		b.ReportMetric(limitMiB, "limit-MiB")
	}
	b.ReportMetric(float64(n), "events")
}

// produceVisitors writes n JSON access-log records at rate events per
// second of event time, round robin over the partitions, each with a user
// and an IP of its own, a few paths, terms and messages.
func produceVisitors(b *testing.B, st *stack, partitions, n int, rate float64) {
	cl := testkit.KafkaClient(b, st.kafka.Addrs(), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.MaxBufferedRecords(1<<20))
	defer cl.Close()
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	msgs := []string{"cache miss for key %d", "connection from 10.1.%d.3 closed after 12 ms", "job %d finished with status ok", ""}
	terms := []string{"shoes", "hats", "socks", "coats", "bags"}
	var recs []*kgo.Record
	for i := range n {
		ts := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		extra := ""
		if m := msgs[i%len(msgs)]; m != "" {
			extra = `,"msg":"` + fmt.Sprintf(m, i%97) + `"`
		}
		line := fmt.Sprintf(`{"ts":"%s","host":"web-%d","user":"u%d","ip":"10.%d.%d.%d","method":"GET","url":"/p/%d?q=%s","status":%d,"bytes":%d,"latency_ms":%.1f,"level":"INFO"%s}`,
			ts.Format(time.RFC3339Nano), i%4, i, i>>16&255, i>>8&255, i&255, i%300, terms[i%5], []int{200, 200, 404, 500}[i%4],
			100+i%5000, float64(i%3000)/10, extra)
		recs = append(recs, &kgo.Record{Partition: int32(i % partitions), Value: []byte(line), Timestamp: ts})
		if len(recs) == 100_000 || i == n-1 {
			if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
}

// checkpointedAll reports whether every partition of want (partition ->
// last offset) has its checkpoint in db at its last offset.
func checkpointedAll(tb testing.TB, db *mongo.Database, want map[int32]int64) bool {
	cks := readCheckpoints(tb, db)
	for p, last := range want {
		if c, ok := cks[p]; !ok || c.Offset < last {
			return false
		}
	}
	return true
}

// procStatusKiB reads a kB figure of /proc/PID/status (VmHWM, VmRSS).
func procStatusKiB(tb testing.TB, pid int, key string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatalf("read status of process %d: %v", pid, err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, key+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return v
				}
			}
		}
	}
	tb.Fatalf("process %d: no %s in its status", pid, key)
	return 0
}
