package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/loglambda/loglambda/base/secure"
	"github.com/loglambda/loglambda/base/secure/securetest"
	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
)

// TestSecureStack runs ship, batch compact, speed and serve as a production
// user would against a Kafka that requires TLS and SASL/SCRAM-SHA-512 (the
// password from a file) and a MongoDB that requires TLS with client
// certificates and has a password in its URI; serve answers over TLS with
// tokens. Every event shipped must be counted by batch and speed, and no
// secret may appear in the logs, --help or /v1/status.
func TestSecureStack(t *testing.T) {
	testkit.SkipShort(t, "starts Kafka, MongoDB and the layers")
	const (
		kafkaUser     = "loglambda-app"
		kafkaPassword = "kafka-Pa55word-never-shown"
		mongoPassword = "mongo-Pa55word-never-shown"
		readTok       = "read-tok-0123456789abcdef-never-shown"
		sqlTok        = "sql-tok-0123456789abcdef-never-shown"
		n             = 50_000
		topic         = "seclogs"
	)
	secrets := []string{kafkaPassword, mongoPassword, readTok, sqlTok}
	certs := securetest.New(t)
	dir := t.TempDir()
	logs := &testkit.SyncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	kc := saslKafka(t, certs, topic, 4, "SCRAM-SHA-512", kafkaUser, kafkaPassword)
	mongoSrv := testkit.Mongo(t, embedded.MongoConfig{DataDir: filepath.Join(dir, "mongo"),
		TLSCertFile: certs.ServerCert, TLSKeyFile: certs.ServerKey, TLSCAFile: certs.CA})
	mongoURI := strings.Replace(mongoSrv.URI(), "mongodb://", "mongodb://app:"+mongoPassword+"@", 1)
	// FerretDB's SQLite backend takes any user; PLAIN keeps the driver from
	// asking for SCRAM, which it does not offer.
	mongoURI += "&authMechanism=PLAIN"

	pwFile := filepath.Join(dir, "kafka-password")
	if err := os.WriteFile(pwFile, []byte(kafkaPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokFile := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokFile, []byte(readTok+" read\n"+sqlTok+" sql\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The connection settings come from the environment, as in a container.
	for k, v := range map[string]string{
		"LOGLAMBDA_BROKERS":                  strings.Join(kc.ListenAddrs(), ","),
		"LOGLAMBDA_TOPIC":                    topic,
		"LOGLAMBDA_KAFKA_TLS_CA_FILE":        certs.CA,
		"LOGLAMBDA_KAFKA_SASL_MECHANISM":     "SCRAM-SHA-512",
		"LOGLAMBDA_KAFKA_SASL_USER":          kafkaUser,
		"LOGLAMBDA_KAFKA_SASL_PASSWORD_FILE": pwFile,
		"LOGLAMBDA_MONGO_URI":                mongoURI,
		"LOGLAMBDA_MONGO_TLS_CA_FILE":        certs.CA,
		"LOGLAMBDA_MONGO_TLS_CERT_FILE":      certs.ClientCert,
		"LOGLAMBDA_MONGO_TLS_KEY_FILE":       certs.ClientKey,
	} {
		t.Setenv(k, v)
	}

	// n events over two hours that ended three hours ago, one a line.
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-5 * time.Hour)
	var lines bytes.Buffer
	for i := range n {
		ts := t0.Add(time.Duration(i) * 2 * time.Hour / n)
		fmt.Fprintf(&lines, `{"ts":"%s","url":"/s?q=term%d","ip":"10.0.%d.%d","user":"u%d"}`+"\n", ts.Format(time.RFC3339Nano), i%50, i%7, i%200, i%300)
	}
	file := filepath.Join(dir, "access.log")
	if err := os.WriteFile(file, lines.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := testkit.Context(t, 3*time.Minute)

	var shipErr bytes.Buffer
	if err := runShip(ctx, []string{"--kafka-sasl-password-file", pwFile, "--brokers", strings.Join(kc.ListenAddrs(), ","),
		"--topic", topic, "--kafka-tls-ca-file", certs.CA, "--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-sasl-user", kafkaUser, file},
		nil, &shipErr, false); err != nil {
		t.Fatalf("ship: %v (%s)", err, shipErr.String())
	}

	var batchOut, batchErr bytes.Buffer
	if err := runBatch(ctx, []string{"compact", "--lake", filepath.Join(dir, "lake")}, &batchOut, &batchErr, nil); err != nil {
		t.Fatalf("batch compact: %v (%s)", err, batchErr.String())
	}
	var compacted struct{ Summary struct{ Rows int64 } }
	if err := json.Unmarshal(batchOut.Bytes(), &compacted); err != nil || compacted.Summary.Rows != n {
		t.Fatalf("batch compact: %s (%v), want %d rows", batchOut.String(), err, n)
	}

	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	httpAddr := testkit.FreeAddr(t)
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs <- runSpeed(sctx, []string{"--flush-interval", "200ms"}, io.Discard) }()
	go func() {
		defer wg.Done()
		errs <- runServe(sctx, []string{"--http", httpAddr, "--grpc", "", "--lake", filepath.Join(dir, "lake"),
			"--refresh-interval", "200ms", "--tls-cert", certs.ServerCert, "--tls-key", certs.ServerKey, "--api-tokens-file", tokFile}, io.Discard)
	}()
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: certs.ClientConfig()}}
	get := func(path, token string) (int, []byte, error) {
		req, _ := http.NewRequest("GET", "https://"+httpAddr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := cl.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	var statusBody []byte
	waitFor(t, 150*time.Second, "speed to apply every event", func() error {
		select {
		case err := <-errs:
			return fmt.Errorf("a layer stopped: %w", err)
		default:
		}
		code, body, err := get("/v1/status", readTok)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("status %d: %s", code, body)
		}
		var st statusAnswer
		if err := json.Unmarshal(body, &st); err != nil {
			return err
		}
		if st.Events != n {
			return fmt.Errorf("speed applied %d of %d events", st.Events, n)
		}
		statusBody = body
		return nil
	})
	if code, _, err := get("/v1/status", ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("status without a token: %d %v, want 401", code, err)
	}
	var pv struct{ Total struct{ PV int64 } }
	if code, body, err := get("/v1/traffic?step=1h&"+rangeQuery(t0, t0.Add(2*time.Hour)), readTok); err != nil || code != 200 || json.Unmarshal(body, &pv) != nil || pv.Total.PV != n {
		t.Errorf("traffic: %d %s %v, want pv %d", code, body, err, n)
	}
	stop()
	wg.Wait()

	// Every command's --help, with the secrets in the environment.
	t.Setenv("LOGLAMBDA_KAFKA_SASL_PASSWORD", kafkaPassword)
	var help bytes.Buffer
	// Usage goes to the process's stderr: catch it in a file.
	helpFile, err := os.Create(filepath.Join(dir, "help.txt"))
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = helpFile
	for _, c := range [][]string{{"speed", "--help"}, {"serve", "--help"}, {"gen", "--help"}, {"batch", "run", "--help"}} {
		if code := Main(ctx, c, &help, &help); code != 0 {
			t.Errorf("%v: exit %d", c, code)
		}
	}
	os.Stderr = stderr
	helpFile.Close()
	if b, err := os.ReadFile(helpFile.Name()); err != nil {
		t.Fatal(err)
	} else {
		help.Write(b)
	}
	if err := runShip(ctx, []string{"--help"}, nil, &help, false); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("ship --help: %v", err)
	}
	if !strings.Contains(help.String(), "--kafka-sasl-password-file") || !strings.Contains(help.String(), "--api-tokens-file") {
		t.Errorf("--help does not list the security flags:\n%s", help.String())
	}
	for _, where := range []struct{ name, text string }{
		{"logs", logs.String()}, {"--help", help.String()}, {"/v1/status", string(statusBody)}, {"ship's output", shipErr.String()},
	} {
		for _, s := range secrets {
			if strings.Contains(where.text, s) {
				t.Errorf("%s shows the secret %q", where.name, s)
			}
		}
	}
	if !strings.Contains(logs.String(), "app:xxxxx@") {
		t.Errorf("the logs do not name the MongoDB URI redacted:\n%.2000s", logs.String())
	}
}

// TestUpExternalSecureKafka points up at a Kafka that requires TLS and
// SASL/PLAIN instead of its embedded broker, feeds it through the demo's
// sink with the same settings, and checks batch compacts every record.
func TestUpExternalSecureKafka(t *testing.T) {
	testkit.SkipShort(t, "starts Kafka, MongoDB and the layers")
	const n = 20_000
	certs := securetest.New(t)
	kc := saslKafka(t, certs, "logs", 4, "PLAIN", "upuser", "up-plain-password")
	c := upConfig{data: t.TempDir(), brokers: strings.Join(kc.ListenAddrs(), ","), mongoListen: "127.0.0.1:0", httpAddr: "127.0.0.1:0",
		partitions: 4, mongoDB: "loglambda", batchEvery: time.Hour, kafkaRetention: -1,
		viewFlags: upViewFlags(),
		kafkaSec:  kafkaSecFlags{files: secureFiles(certs.CA), mechanism: "PLAIN", user: "upuser", password: secretValue{"up-plain-password"}}}
	st := openUp(t, c)
	var banner bytes.Buffer
	st.printBanner(&banner)
	if !strings.Contains(banner.String(), "external: tls (ca ") || strings.Contains(banner.String(), "up-plain-password") {
		t.Errorf("banner:\n%s", banner.String())
	}
	ctx := testkit.Context(t, 2*time.Minute)
	g, err := gen.New(gen.Seed(3), gen.Rate(10), gen.Start(time.Now().Add(-4*time.Hour)), gen.Count(n), gen.OutOfOrder(0), gen.Late(0))
	if err != nil {
		t.Fatal(err)
	}
	sink, err := newKafkaSink(ctx, st.brokers, "logs", st.kopts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := feed(ctx, g, sink, feedOpts{}); err != nil {
		t.Fatal(err)
	}
	sum, err := st.batch.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != n {
		t.Fatalf("compacted %d rows, want %d", sum.Rows, n)
	}
}

func secureFiles(ca string) secure.TLSFiles { return secure.TLSFiles{CAFile: ca} }

// upViewFlags are the views' flags of the tests that open up's stack.
func upViewFlags() viewFlags {
	return viewFlags{topic: "logs", format: "json", hotTerm: "param:q,Input", pane: time.Minute, lateness: 2 * time.Minute}
}

// openUp checks c and opens up's stack, closed when the test ends.
func openUp(t *testing.T, c upConfig) *stack {
	t.Helper()
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	st, err := openStack(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.close)
	return st
}

// saslKafka starts a broker on TLS (certs) with SASL, whose one user is a
// superuser (mechanism, user, password), with topic of partitions; it is
// closed when the test ends.
func saslKafka(t *testing.T, certs *securetest.Files, topic string, partitions int32, mechanism, user, password string) *kfake.Cluster {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic),
		kfake.TLS(certs.ServerConfig(t, false)), kfake.EnableSASL(), kfake.Superuser(mechanism, user, password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	return kc
}
