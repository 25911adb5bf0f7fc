package secure_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/secure"
	"github.com/loglambda/loglambda/base/secure/securetest"
)

// TestCheckKafka: every refused credential is told within CheckTimeout,
// naming its cause and never the password; good credentials pass; a
// broker nobody listens on is not a credential error.
func TestCheckKafka(t *testing.T) {
	certs := securetest.New(t)
	brokers := startSecureKafka(t, certs, false)
	mutual := startSecureKafka(t, certs, true)
	// A broker whose certificate expired an hour ago.
	expired := securetest.New(t)
	expired.IssueValid(t, "server", expired.ServerCert, expired.ServerKey, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
	old := startSecureKafka(t, expired, false)
	// A client certificate of another CA, which the mutual broker refuses.
	other := securetest.New(t)
	tlsCA := secure.TLSFiles{CAFile: certs.CA}
	scram := func(user, pw string) secure.KafkaConfig {
		return secure.KafkaConfig{TLSFiles: tlsCA, SASLMechanism: "SCRAM-SHA-256", SASLUser: user, SASLPassword: pw}
	}
	cases := []struct {
		name    string
		brokers []string
		cfg     secure.KafkaConfig
		cause   string // "" passes; "-" fails, not a credential error
	}{
		{"good", brokers, scram("scram256", "scram-pw-256"), ""},
		{"wrong password", brokers, scram("scram256", "wrong-pw"), `login as "scram256" refused`},
		{"unknown user", brokers, scram("nobody", "wrong-pw"), `login as "nobody" refused`},
		{"plain wrong password", brokers, secure.KafkaConfig{TLSFiles: tlsCA, SASLMechanism: "PLAIN", SASLUser: "plainuser", SASLPassword: "wrong-pw"}, "SASL PLAIN login"},
		{"untrusted certificate", brokers, secure.KafkaConfig{TLS: true, SASLMechanism: "PLAIN", SASLUser: "plainuser", SASLPassword: "plain-pw-1"}, "authority this client does not trust"},
		{"expired certificate", old, secure.KafkaConfig{TLSFiles: secure.TLSFiles{CAFile: expired.CA}, SASLMechanism: "PLAIN", SASLUser: "plainuser", SASLPassword: "plain-pw-1"}, "expired"},
		{"certificate for another host", brokers, secure.KafkaConfig{TLSFiles: secure.TLSFiles{CAFile: certs.CA, ServerName: "kafka.example.com"}, SASLMechanism: "PLAIN", SASLUser: "plainuser", SASLPassword: "plain-pw-1"}, "not for kafka.example.com"},
		{"client certificate refused", mutual, secure.KafkaConfig{TLSFiles: secure.TLSFiles{CAFile: certs.CA, CertFile: other.ClientCert, KeyFile: other.ClientKey},
			SASLMechanism: "PLAIN", SASLUser: "plainuser", SASLPassword: "plain-pw-1"}, "refused this client's certificate"},
		{"sasl missing", brokers, secure.KafkaConfig{TLSFiles: tlsCA}, "SASL is required"},
		{"tls missing", brokers, secure.KafkaConfig{SASLMechanism: "PLAIN", SASLUser: "plainuser", SASLPassword: "plain-pw-1"}, "TLS missing"},
		{"nobody listens", []string{"127.0.0.1:1"}, scram("scram256", "scram-pw-256"), "-"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			err := secure.CheckKafka(context.Background(), c.brokers, c.cfg)
			took := time.Since(start)
			var ce *secure.CredentialError
			switch {
			case c.cause == "" && err != nil:
				t.Fatalf("check: %v", err)
			case c.cause == "-" && (err == nil || errors.As(err, &ce)):
				t.Fatalf("check: %v, want an error that is not about credentials", err)
			case c.cause != "" && c.cause != "-" && !errors.As(err, &ce):
				t.Fatalf("check: %v (%T), want a CredentialError", err, err)
			case c.cause != "" && c.cause != "-" && !strings.Contains(err.Error(), c.cause):
				t.Fatalf("check: %q does not say %q", err, c.cause)
			}
			if took > secure.CheckTimeout+time.Second {
				t.Errorf("check took %s, more than %s", took, secure.CheckTimeout)
			}
			if err != nil && c.cfg.SASLPassword != "" && strings.Contains(err.Error(), c.cfg.SASLPassword) {
				t.Fatalf("error %q shows the password", err)
			}
			t.Logf("%s in %s", err, took)
		})
	}
}
