package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/base/secure/securetest"
	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/serving"
)

// aloneStatus is what the tests of a serve process read of /v1/status.
type aloneStatus struct {
	Partitions []struct {
		Partition int32  `json:"partition"`
		Offset    int64  `json:"offset"`
		Lag       *int64 `json:"lag"`
	} `json:"partitions"`
	LagUnknown string            `json:"lag_unknown"`
	Behind     []serving.Backlog `json:"behind"`
}

// lags is the status's lag per partition, -1 for null.
func (s aloneStatus) lags() map[int32]int64 {
	out := map[int32]int64{}
	for _, p := range s.Partitions {
		out[p.Partition] = -1
		if p.Lag != nil {
			out[p.Partition] = *p.Lag
		}
	}
	return out
}

func (s aloneStatus) behind() string {
	var b []string
	for _, x := range s.Behind {
		b = append(b, x.Layer+": "+x.LastError+x.Blocked)
	}
	return strings.Join(b, "\n")
}

// produceTo writes counts[p] JSON lines to partition p of topic logs.
func produceTo(t *testing.T, ctx context.Context, broker string, counts map[int32]int) {
	t.Helper()
	cl := testkit.KafkaClient(t, []string{broker}, kgo.DefaultProduceTopic("logs"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	var recs []*kgo.Record
	now := time.Now().UTC()
	for p, n := range counts {
		for i := range n {
			line := fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"line %d"}`, now.Format(time.RFC3339Nano), i)
			recs = append(recs, &kgo.Record{Partition: p, Value: []byte(line), Headers: []kgo.RecordHeader{{Key: "format", Value: []byte("json")}}})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TestServeAloneLag runs serve as a process of its own beside a speed
// process and a `loglambda stores` process: /v1/status's lag is the
// broker's end offsets minus the checkpoints. With speed caught up it is 0
// on both partitions; with speed killed and 50 and 30 more records
// produced, it is 50 and 30 (what the test produced), and within
// StalledAfter and a refresh each partition is listed under "behind" as
// written by nobody; a serve with --brokers "" says lag unknown (null)
// rather than 0. Speed restarted, the lag is 0 again and nothing behind.
func TestServeAloneLag(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: stores, speed and serve as processes")
	t.Parallel() // see "Parallel" in e2e_test.go
	bin := buildBinary(t)
	ctx := testkit.Context(t, 5*time.Minute)
	dir := t.TempDir()
	_, kafkaAddr, mongoAddr := startStores(t, bin, filepath.Join(dir, "data"), 2)
	uri := "mongodb://" + mongoAddr + "/"
	produceTo(t, ctx, kafkaAddr, map[int32]int{0: 200, 1: 100})

	speedP := newProc(t, "speed", bin, "speed", "--brokers", kafkaAddr, "--mongo-uri", uri, "--mongo-db", "out",
		"--group", "out", "--instance-id", "", "--flush-interval", "500ms")
	speedP.start()
	httpAddr, blindAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	serve := newProc(t, "serve", bin, "serve", "--brokers", kafkaAddr, "--mongo-uri", uri, "--mongo-db", "out",
		"--http", httpAddr, "--grpc", "", "--lake", filepath.Join(dir, "lake"), "--refresh-interval", "1s")
	blind := newProc(t, "serve-no-broker", bin, "serve", "--brokers", "", "--mongo-uri", uri, "--mongo-db", "out",
		"--http", blindAddr, "--grpc", "", "--lake", filepath.Join(dir, "lake"), "--refresh-interval", "1s")
	serve.start()
	blind.start()
	base, blindBase := "http://"+httpAddr, "http://"+blindAddr

	status := func(base string) (aloneStatus, error) {
		var st aloneStatus
		err := tryGetJSON(base, "/v1/status", &st)
		return st, err
	}
	// wantLags waits for the lags; stalled listed or not when asked.
	const dontCare, listed, notListed = 0, 1, 2
	wantLags := func(base string, want map[int32]int64, stalled int) func() error {
		return func() error {
			st, err := status(base)
			if err != nil {
				return err
			}
			if got := st.lags(); fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("lag %v, want %v (lag_unknown %q)", got, want, st.LagUnknown)
			}
			if b := st.behind(); stalled != dontCare && (stalled == listed) != strings.Contains(b, "no speed member has written it") {
				return fmt.Errorf("behind %q, want stalled partitions listed: %v", b, stalled == listed)
			}
			return nil
		}
	}
	waitFor(t, 2*time.Minute, "speed caught up: lag 0", wantLags(base, map[int32]int64{0: 0, 1: 0}, notListed))
	st, err := status(blindBase)
	for err == nil && len(st.Partitions) < 2 {
		time.Sleep(500 * time.Millisecond)
		st, err = status(blindBase)
	}
	if err != nil || !strings.Contains(st.LagUnknown, "no broker") || fmt.Sprint(st.lags()) != fmt.Sprint(map[int32]int64{0: -1, 1: -1}) {
		t.Errorf("serve --brokers \"\": lag %v, lag_unknown %q, err %v; want null on both partitions and the reason", st.lags(), st.LagUnknown, err)
	}

	speedP.kill()
	produceTo(t, ctx, kafkaAddr, map[int32]int{0: 50, 1: 30})
	waitFor(t, 10*time.Second, "lag 50 and 30 with speed dead", wantLags(base, map[int32]int64{0: 50, 1: 30}, dontCare))
	killed := time.Now()
	waitFor(t, serving.StalledAfter+30*time.Second, "both partitions listed as written by nobody", func() error {
		st, err := status(base)
		if err != nil {
			return err
		}
		b := st.behind()
		for _, w := range []string{"partition 0: 50 records wait", "partition 1: 30 records wait"} {
			if !strings.Contains(b, w) {
				return fmt.Errorf("behind %q lacks %q", b, w)
			}
		}
		return nil
	})
	t.Logf("stalled partitions listed %s after the kill", time.Since(killed).Round(time.Second))

	speedP.start()
	waitFor(t, 2*time.Minute, "speed back: lag 0, nothing behind", wantLags(base, map[int32]int64{0: 0, 1: 0}, notListed))
}

// TestServeShowsBlockedLayers runs speed and batch as processes with a
// wrong SASL password against a broker that requires TLS and SCRAM, and
// serve as a process of its own: both exit naming the refused login, and
// record it in MongoDB (collections.LayerState), so serve's /v1/status
// lists speed and batch as blocked (never the password) and /readyz
// answers 503 naming them. Started again with the right password, speed
// records itself running and a batch run stopped, and /readyz answers
// 200. A speed whose settings the views' contract refuses (another
// --pane) is blocked too, naming the flag.
func TestServeShowsBlockedLayers(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: speed, batch and serve as processes against a SASL broker")
	t.Parallel() // see "Parallel" in e2e_test.go
	const (
		user  = "loglambda-app"
		good  = "the-right-password"
		wrong = "a-wrong-password-never-shown"
	)
	certs := securetest.New(t)
	kc := saslKafka(t, certs, "logs", 2, "SCRAM-SHA-512", user, good)
	m := testkit.Mongo(t, embedded.MongoConfig{})
	bin := buildBinary(t)
	dir := t.TempDir()
	kafkaFlags := func(password string) []string {
		return []string{"--brokers", strings.Join(kc.ListenAddrs(), ","), "--kafka-tls-ca-file", certs.CA,
			"--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-sasl-user", user, "--kafka-sasl-password", password}
	}
	store := []string{"--mongo-uri", m.URI(), "--mongo-db", "out"}
	args := func(cmd []string, password string, more ...string) []string {
		return append(append(append(cmd, kafkaFlags(password)...), store...), more...)
	}
	httpAddr := testkit.FreeAddr(t)
	serve := newProc(t, "serve", bin, args([]string{"serve"}, good, "--http", httpAddr, "--grpc", "",
		"--lake", filepath.Join(dir, "lake"), "--refresh-interval", "1s")...)
	serve.start()
	base := "http://" + httpAddr
	waitFor(t, time.Minute, "serve ready", func() error {
		if code, body := readyz(base); code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})

	// runToEnd runs a process until it exits by itself.
	runToEnd := func(name string, args ...string) (*proc, time.Duration) {
		p := newProc(t, name, bin, args...)
		start := time.Now()
		p.start()
		for !p.exited() {
			time.Sleep(50 * time.Millisecond)
		}
		return p, time.Since(start)
	}
	speedArgs := []string{"speed", "--instance-id", "a", "--flush-interval", "500ms"}
	batchArgs := []string{"batch", "run", "--lake", filepath.Join(dir, "lake")}
	for _, cmd := range [][]string{speedArgs, batchArgs} {
		p, took := runToEnd(cmd[0]+"-refused", args(cmd, wrong)...)
		out := p.output()
		if p.cmd.ProcessState.ExitCode() == 0 || !strings.Contains(out, `login as "`+user+`" refused`) || strings.Contains(out, wrong) {
			t.Fatalf("%s with a wrong password: exit %d after %s: %s", cmd[0], p.cmd.ProcessState.ExitCode(), took, out)
		}
		t.Logf("%s exited after %s", cmd[0], took.Round(time.Millisecond))
	}
	var st aloneStatus
	waitFor(t, 15*time.Second, "/readyz 503 and speed and batch blocked", func() error {
		code, body := readyz(base)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "is blocked") || !strings.Contains(body, "refused") {
			return fmt.Errorf("/readyz %d %s", code, body)
		}
		raw := ""
		if _, raw = httpGet(base + "/v1/status"); strings.Contains(raw, wrong) {
			t.Fatalf("/v1/status shows the password: %s", raw)
		}
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return err
		}
		blocked := map[string]string{}
		for _, b := range st.Behind {
			if b.Blocked != "" {
				blocked[b.Layer] = b.Blocked
			}
		}
		for _, layer := range []string{"speed", "batch"} {
			if !strings.Contains(blocked[layer], `login as "`+user+`" refused`) {
				return fmt.Errorf("%s not blocked by the refused login: %v", layer, blocked)
			}
		}
		return nil
	})
	t.Logf("blocked: %s", st.behind())

	// The right password: speed runs (and records it), batch runs once.
	speedP := newProc(t, "speed", bin, args(speedArgs, good)...)
	speedP.start()
	if p, _ := runToEnd("batch", args(batchArgs, good)...); p.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("batch run with the right password: %s", p.output())
	}
	waitFor(t, time.Minute, "/readyz 200 with both fixed", func() error {
		if code, body := readyz(base); code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	docs := testkit.All[collections.LayerState](t, testkit.Client(t, m.URI()).Database("out").Collection(collections.LayerCollection))
	states := map[string]string{}
	for _, d := range docs {
		states[d.ID] = d.State
	}
	if want := map[string]string{"logs|speed|a": "running", "logs|batch": "stopped"}; fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("layer states %v, want %v", states, want)
	}

	// A speed the contract refuses (another pane) is blocked, named.
	if p, _ := runToEnd("speed-pane", args([]string{"speed", "--instance-id", "b", "--pane", "2m"}, good)...); p.cmd.ProcessState.ExitCode() == 0 {
		t.Fatalf("speed with another --pane ran: %s", p.output())
	}
	waitFor(t, 15*time.Second, "/readyz 503 naming speed b and --pane", func() error {
		code, body := readyz(base)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "speed instance b is blocked") || !strings.Contains(body, "--pane") {
			return fmt.Errorf("/readyz %d %s", code, body)
		}
		return nil
	})
	speedP.stopInterrupt()
}
