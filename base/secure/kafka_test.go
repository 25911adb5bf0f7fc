package secure_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/base/secure"
	"github.com/loglambda/loglambda/base/secure/securetest"
	"github.com/loglambda/loglambda/internal/testkit"
)

// startSecureKafka starts kfake with TLS (client certificates required
// when mutual) and SASL users for every mechanism.
func startSecureKafka(t *testing.T, certs *securetest.Files, mutual bool) []string {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(2),
		kfake.TLS(certs.ServerConfig(t, mutual)),
		kfake.EnableSASL(),
		kfake.Superuser(secure.SASLPlain, "plainuser", "plain-pw-1"),
		kfake.Superuser(secure.SASLScramSHA256, "scram256", "scram-pw-256"),
		kfake.Superuser(secure.SASLScramSHA512, "scram512", "scram-pw-512"),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// roundTrip produces n records through a client built from cfg and reads
// them back through another, returning the first error.
func roundTrip(t *testing.T, brokers []string, cfg secure.KafkaConfig, n int) error {
	t.Helper()
	opts, err := cfg.Opts()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prod, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation()}, opts...)...)
	if err != nil {
		return err
	}
	defer prod.Close()
	// A refused handshake or login is retried by kgo until the deadline;
	// Ping returns its error at once.
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	defer pcancel()
	if err := prod.Ping(pctx); err != nil {
		return err
	}
	// A topic per round trip keeps the counts of the cases apart.
	topic := fmt.Sprintf("logs-%d", time.Now().UnixNano())
	for i := range n {
		prod.Produce(ctx, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "line %d", i)}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		return err
	}
	// Flush does not return the records' errors: produce one synchronously.
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("last")}).FirstErr(); err != nil {
		return err
	}
	cons, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	if err != nil {
		return err
	}
	defer cons.Close()
	seen := map[string]bool{}
	for len(seen) < n+1 {
		fs := cons.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return err
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
	for i := range n {
		if !seen[fmt.Sprintf("line %d", i)] {
			return fmt.Errorf("record %d not read back", i)
		}
	}
	return nil
}

func TestKafkaTLSAndSASL(t *testing.T) {
	certs := securetest.New(t)
	brokers := startSecureKafka(t, certs, false)
	tlsCA := secure.TLSFiles{CAFile: certs.CA}
	cases := []struct {
		name    string
		cfg     secure.KafkaConfig
		wantErr string // "" succeeds; "*" any error (kfake drops a failed login without a message)
	}{
		{"plain", secure.KafkaConfig{TLSFiles: tlsCA, SASLMechanism: "PLAIN", SASLUser: "plainuser", SASLPassword: "plain-pw-1"}, ""},
		{"scram-sha-256", secure.KafkaConfig{TLSFiles: tlsCA, SASLMechanism: "scram-sha-256", SASLUser: "scram256", SASLPassword: "scram-pw-256"}, ""},
		{"scram-sha-512", secure.KafkaConfig{TLSFiles: tlsCA, SASLMechanism: "SCRAM-SHA-512", SASLUser: "scram512", SASLPassword: "scram-pw-512"}, ""},
		{"server name checked", secure.KafkaConfig{TLSFiles: secure.TLSFiles{CAFile: certs.CA, ServerName: "localhost"},
			SASLMechanism: "SCRAM-SHA-512", SASLUser: "scram512", SASLPassword: "scram-pw-512"}, ""},
		{"wrong password", secure.KafkaConfig{TLSFiles: tlsCA, SASLMechanism: "SCRAM-SHA-256", SASLUser: "scram256", SASLPassword: "nope"}, "*"},
		{"wrong mechanism for user", secure.KafkaConfig{TLSFiles: tlsCA, SASLMechanism: "PLAIN", SASLUser: "scram256", SASLPassword: "scram-pw-256"}, "*"},
		{"no sasl", secure.KafkaConfig{TLSFiles: tlsCA}, "SASL"},
		{"system roots do not trust the test CA", secure.KafkaConfig{TLS: true, SASLMechanism: "PLAIN", SASLUser: "plainuser", SASLPassword: "plain-pw-1"}, "certificate"},
		{"wrong server name", secure.KafkaConfig{TLSFiles: secure.TLSFiles{CAFile: certs.CA, ServerName: "kafka.example.com"},
			SASLMechanism: "PLAIN", SASLUser: "plainuser", SASLPassword: "plain-pw-1"}, "certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := roundTrip(t, brokers, c.cfg, 500)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("round trip: %v", err)
			case c.wantErr != "" && err == nil:
				t.Fatalf("round trip succeeded, want an error with %q", c.wantErr)
			case c.wantErr != "" && c.wantErr != "*" && !strings.Contains(err.Error(), c.wantErr):
				t.Fatalf("error %q does not mention %q", err, c.wantErr)
			}
			if err != nil && c.cfg.SASLPassword != "" && strings.Contains(err.Error(), c.cfg.SASLPassword) {
				t.Fatalf("error %q shows the password", err)
			}
		})
	}
}

func TestKafkaMutualTLS(t *testing.T) {
	certs := securetest.New(t)
	brokers := startSecureKafka(t, certs, true)
	sasl := secure.KafkaConfig{SASLMechanism: "SCRAM-SHA-512", SASLUser: "scram512", SASLPassword: "scram-pw-512"}
	with := sasl
	with.TLSFiles = secure.TLSFiles{CAFile: certs.CA, CertFile: certs.ClientCert, KeyFile: certs.ClientKey}
	if err := roundTrip(t, brokers, with, 100); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	without := sasl
	without.TLSFiles = secure.TLSFiles{CAFile: certs.CA}
	if err := roundTrip(t, brokers, without, 1); err == nil {
		t.Fatal("without a client certificate: the broker accepted the client")
	}
}

// TestKafkaTLSSCRAMVolume sends the demo's hour of traffic at 100 events/s
// (360 000 records of a typical line's size) through TLS and SCRAM-SHA-512
// and reads every record back.
func TestKafkaTLSSCRAMVolume(t *testing.T) {
	testkit.SkipShort(t, "volume")
	certs := securetest.New(t)
	brokers := startSecureKafka(t, certs, false)
	cfg := secure.KafkaConfig{TLSFiles: secure.TLSFiles{CAFile: certs.CA}, SASLMechanism: "SCRAM-SHA-512", SASLUser: "scram512", SASLPassword: "scram-pw-512"}
	if err := roundTrip(t, brokers, cfg, 360_000); err != nil {
		t.Fatal(err)
	}
}

func TestKafkaConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  secure.KafkaConfig
		want string
	}{
		{"unknown mechanism", secure.KafkaConfig{SASLMechanism: "GSSAPI", SASLUser: "u", SASLPassword: "p"}, `mechanism "GSSAPI"`},
		{"no user", secure.KafkaConfig{SASLMechanism: "PLAIN", SASLPassword: "p"}, "user is empty"},
		{"no password", secure.KafkaConfig{SASLMechanism: "PLAIN", SASLUser: "u"}, "password is empty"},
		{"user without mechanism", secure.KafkaConfig{SASLUser: "u"}, "no mechanism"},
		{"cert without key", secure.KafkaConfig{TLSFiles: secure.TLSFiles{CertFile: "c.pem"}}, "both"},
		{"missing CA file", secure.KafkaConfig{TLSFiles: secure.TLSFiles{CAFile: "/nonexistent/ca.pem"}}, "/nonexistent/ca.pem"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.cfg.Opts()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one with %q", err, c.want)
			}
		})
	}
	if opts, err := (secure.KafkaConfig{}).Opts(); err != nil || len(opts) != 0 {
		t.Fatalf("zero config: %d opts, %v; want none", len(opts), err)
	}
}
