package cli

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/loglambda/loglambda/internal/testkit"
)

// readyz returns /readyz's status code and body, 0 when it does not answer.
func readyz(base string) (int, string) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 1024)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	return resp.StatusCode, strings.TrimSpace(b.String())
}

// TestOutages runs the layers as separate processes (speed, serve, and
// batch run every 10 s as cron would) against a broker and a MongoDB that
// each run in a `loglambda stores` process of their own, under live
// traffic from `loglambda gen`. MongoDB is killed for 60 s, then the
// broker is restarted. Throughout, speed and serve must keep running,
// /readyz must answer 503 naming MongoDB while it is down (from 15 s
// after: the refresh in flight fails at its own deadline) and 200 again
// after, speed must say it is behind and why once per interval; at the
// end the speed documents must equal those of one uninterrupted speed
// process over the same records, and the lake must hold every record once.
func TestOutages(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: MongoDB down 60 s and a broker restart under load")
	const (
		partitions = 4
		rate       = 400
		events     = 400 * 170 // ~30 s at once, then ~140 s live
	)
	bin := buildBinary(t)
	ctx := testkit.Context(t, 15*time.Minute)
	data := filepath.Join(t.TempDir(), "data")
	kafkaAddr, mongoAddr, httpAddr := testkit.FreeAddr(t), testkit.FreeAddr(t), testkit.FreeAddr(t)
	kafka := newProc(t, "kafka", bin, "stores", "--mongo=false", "--data", data, "--kafka-listen", kafkaAddr, "--partitions", fmt.Sprint(partitions))
	mongoP := newProc(t, "mongo", bin, "stores", "--kafka=false", "--data", data, "--mongo-listen", mongoAddr)
	kafka.start()
	mongoP.start()
	waitFor(t, time.Minute, "the stores", func() error {
		if !strings.Contains(kafka.output(), "kafka: ") || !strings.Contains(mongoP.output(), "mongodb: ") {
			return fmt.Errorf("not listening yet")
		}
		return nil
	})
	uri := "mongodb://" + mongoAddr + "/"
	base := "http://" + httpAddr
	lake := filepath.Join(t.TempDir(), "lake")
	gen := newProc(t, "gen", bin, "gen", "--brokers", kafkaAddr, "--rate", fmt.Sprint(rate), "--start", "-30s", "--count", fmt.Sprint(events))
	speedP := newProc(t, "speed", bin, "speed", "--brokers", kafkaAddr, "--mongo-uri", uri, "--mongo-db", "out", "--group", "out", "--instance-id", "")
	serve := newProc(t, "serve", bin, "serve", "--brokers", kafkaAddr, "--mongo-uri", uri, "--mongo-db", "out", "--http", httpAddr, "--grpc", "", "--lake", lake, "--refresh-interval", "1s")
	gen.start()
	speedP.start()
	serve.start()

	// Batch every 10 s, as cron would run it; a run that fails (MongoDB
	// down) is the next one's to redo.
	batch := newProc(t, "batch", bin, "batch", "run", "--brokers", kafkaAddr, "--mongo-uri", uri, "--mongo-db", "out", "--lake", lake)
	stopBatch := make(chan struct{})
	var batchWG sync.WaitGroup
	var stopOnce sync.Once
	stopBatchLoop := func() { stopOnce.Do(func() { close(stopBatch) }); batchWG.Wait() }
	// A test that fails early stops the loop too, before its logs' temp
	// directory goes (a start after the test has ended would panic).
	t.Cleanup(stopBatchLoop)
	var batchRuns, batchFailed int
	batchWG.Add(1)
	go func() {
		defer batchWG.Done()
		for {
			batch.start()
			for !batch.exited() {
				time.Sleep(50 * time.Millisecond)
			}
			batchRuns++
			if batch.cmd.ProcessState.ExitCode() != 0 {
				batchFailed++
			}
			select {
			case <-stopBatch:
				return
			case <-time.After(10 * time.Second):
			}
		}
	}()

	waitFor(t, 2*time.Minute, "/readyz 200", func() error {
		if code, body := readyz(base); code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	time.Sleep(10 * time.Second)

	// MongoDB down for 60 s.
	t.Logf("MongoDB killed")
	mongoP.kill()
	down := time.Now()
	var codes []int
	var reason string
	for time.Since(down) < 60*time.Second {
		code, body := readyz(base)
		codes = append(codes, code)
		if code == http.StatusServiceUnavailable {
			reason = body
		}
		time.Sleep(time.Second)
	}
	if speedP.exited() || serve.exited() {
		t.Fatalf("a layer stopped while MongoDB was down: speed exited %v, serve exited %v", speedP.exited(), serve.exited())
	}
	// The refresh in flight when MongoDB went away fails only at its
	// own deadline (server selection: ~10 s measured): 15 s to notice.
	const notice = 15
	n503 := 0
	for _, c := range codes[notice:] {
		if c == http.StatusServiceUnavailable {
			n503++
		}
	}
	if n503 != len(codes)-notice || !strings.Contains(reason, "MongoDB cannot be read") {
		t.Errorf("/readyz while MongoDB was down: codes %v, last reason %q; want 503 naming MongoDB within %d s", codes, reason, notice)
	}
	behind := strings.Count(speedP.output(), "speed behind: writes to MongoDB fail")
	if behind < 2 {
		t.Errorf("speed said %d times that it is behind over 60 s, want one line per 30 s interval", behind)
	}
	mongoP.start()
	t.Logf("MongoDB back after %s", time.Since(down).Round(time.Second))
	waitFor(t, 2*time.Minute, "/readyz 200 after MongoDB is back", func() error {
		if code, body := readyz(base); code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})

	// The broker restarted (SIGINT: it saves its log; then started again
	// on the same data and address).
	kafka.stopInterrupt()
	kafka.start()
	t.Logf("broker restarted")
	waitFor(t, 5*time.Minute, "the producer to finish", func() error {
		if !gen.exited() {
			return fmt.Errorf("still producing")
		}
		return nil
	})
	if speedP.exited() || serve.exited() {
		t.Fatalf("a layer stopped after the broker restart: speed %v serve %v", speedP.exited(), serve.exited())
	}
	client := testkit.Client(t, uri)
	adm := kadm.NewClient(testkit.KafkaClient(t, []string{kafkaAddr}))
	ends, err := adm.ListEndOffsets(ctx, "logs")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != events {
		t.Errorf("the topic holds %d records, want the %d produced (lost or doubled across the broker restart)", total, events)
	}
	waitFor(t, 5*time.Minute, "speed to catch up", func() error { return caughtUp(ctx, adm, client.Database("out"), "logs") })
	stopBatchLoop()
	// One more batch run, now that everything is in Kafka.
	batch.start()
	for !batch.exited() {
		time.Sleep(50 * time.Millisecond)
	}
	if batch.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("the last batch run failed: %s", batch.output())
	}
	ref := newProc(t, "reference", bin, "speed", "--brokers", kafkaAddr, "--mongo-uri", uri, "--mongo-db", "ref", "--group", "ref", "--instance-id", "")
	ref.start()
	waitFor(t, 5*time.Minute, "the reference to catch up", func() error { return caughtUp(ctx, adm, client.Database("ref"), "logs") })
	ref.stopInterrupt()
	speedP.stopInterrupt()
	compareSpeedDocs(t, speedDocs(t, ctx, client.Database("ref")), speedDocs(t, ctx, client.Database("out")))
	if got, want := lakeRows(t, bin, lake), fmt.Sprintf("n,d\n%d,%d", total, total); got != want {
		t.Errorf("lake: rows,distinct offsets %q, want %q", got, want)
	}
	t.Logf("%d events; /readyz 503 in %d of %d checks while MongoDB was down (%q); speed said it was behind %d times; %d batch runs, %d failed",
		total, n503, len(codes), reason, behind, batchRuns, batchFailed)
	serve.signal(syscall.SIGINT)
}
