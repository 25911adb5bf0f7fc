package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/secure"
	"github.com/loglambda/loglambda/base/secure/securetest"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/serving"
)

// TestCredentialsRefused gives ship, speed, batch and up a wrong SASL
// password for a Kafka that requires TLS and SCRAM: ship, speed and batch
// exit non-zero within the check's 5 s naming the refused login, never
// the password; up logs the refusal once, shows it in /v1/status as
// speed's and batch's "blocked", and /readyz answers 503.
func TestCredentialsRefused(t *testing.T) {
	const (
		user  = "loglambda-app"
		good  = "the-right-password"
		wrong = "a-wrong-password-never-shown"
	)
	certs := securetest.New(t)
	kc := saslKafka(t, certs, "logs", 4, "SCRAM-SHA-512", user, good)
	brokers := strings.Join(kc.ListenAddrs(), ",")
	input := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(input, []byte("2026-12-07T04:00:00Z INFO hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sec := []string{"--brokers", brokers, "--kafka-tls-ca-file", certs.CA, "--kafka-sasl-mechanism", "SCRAM-SHA-512",
		"--kafka-sasl-user", user, "--kafka-sasl-password", wrong}
	for _, cmd := range [][]string{
		append([]string{"ship", "--topic", "logs"}, append(sec, input)...),
		append([]string{"speed", "--mongo-uri", "mongodb://127.0.0.1:1"}, sec...),
		append([]string{"batch", "compact", "--mongo-uri", "mongodb://127.0.0.1:1", "--lake", t.TempDir()}, sec...),
	} {
		t.Run(cmd[0], func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := Main(context.Background(), cmd, &stdout, &stderr)
			took := time.Since(start)
			msg := stderr.String()
			if code == 0 || !strings.Contains(msg, `login as "`+user+`" refused`) || strings.Contains(msg, wrong) {
				t.Fatalf("exit %d after %s, stderr %q: want non-zero naming the refused login, not the password", code, took, msg)
			}
			if took > secure.CheckTimeout+2*time.Second {
				t.Errorf("told after %s, more than %s", took, secure.CheckTimeout)
			}
			t.Logf("exit %d after %s: %s", code, took, strings.TrimSpace(msg))
		})
	}

	t.Run("up", func(t *testing.T) {
		testkit.SkipShort(t, "starts MongoDB and the layers")
		logs := &testkit.SyncBuffer{}
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil)))
		t.Cleanup(func() { slog.SetDefault(prev) })
		c := upConfig{data: t.TempDir(), brokers: brokers, mongoListen: "127.0.0.1:0", httpAddr: "127.0.0.1:0",
			partitions: 4, mongoDB: "loglambda", batchEvery: time.Hour, kafkaRetention: -1,
			viewFlags: upViewFlags(),
			kafkaSec:  kafkaSecFlags{files: secureFiles(certs.CA), mechanism: "SCRAM-SHA-512", user: user, password: secretValue{wrong}}}
		st := openUp(t, c)
		ctx, cancel := context.WithCancel(testkit.Context(t, time.Minute))
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- st.run(ctx) }()
		base := "http://" + st.httpAddr
		var ready string
		var status struct {
			Behind []serving.Backlog `json:"behind"`
		}
		for deadline := time.Now().Add(secure.CheckTimeout + 2*time.Second); ; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after %s: /readyz %q, /v1/status behind %+v: want 503 and speed and batch blocked", time.Since(start), ready, status.Behind)
			}
			code, body := httpGet(base + "/readyz")
			ready = body
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "blocked") {
				continue
			}
			if _, b := httpGet(base + "/v1/status"); json.Unmarshal([]byte(b), &status) != nil {
				continue
			}
			blocked := 0
			for _, b := range status.Behind {
				if strings.Contains(b.Blocked, `login as "`+user+`" refused`) {
					blocked++
				}
			}
			if blocked == 2 {
				break
			}
		}
		t.Logf("blocked after %s: %s", time.Since(start), strings.TrimSpace(ready))
		time.Sleep(time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		out := logs.String()
		if n := strings.Count(out, "the brokers refuse the credentials"); n != 1 || strings.Contains(out, wrong) {
			t.Errorf("the refusal is logged %d times (want once), or the password shows:\n%s", n, out)
		}
	})
}

// httpGet is a GET's status and body; 0 when the request failed.
func httpGet(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
