package secure

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// The SASL mechanisms a KafkaConfig accepts, spelled as Kafka spells them
// (sasl.mechanism in the Java client, -X sasl.mechanisms in kcat).
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// KafkaConfig is how a client encrypts and authenticates its connections
// to the brokers. The zero value is plaintext without authentication, what
// the embedded broker and a local development cluster speak.
type KafkaConfig struct {
	// TLS turns TLS on with the system roots; any of TLSFiles turns it on
	// too.
	TLS bool
	TLSFiles
	// SASLMechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (any case);
	// empty: no SASL.
	SASLMechanism string
	SASLUser      string
	SASLPassword  string
}

// TLSEnabled reports whether connections use TLS.
func (c KafkaConfig) TLSEnabled() bool { return c.TLS || c.TLSFiles.set() }

// Opts returns the kgo options that apply the config, none for the zero
// value. Errors name the setting at fault and never carry the password.
func (c KafkaConfig) Opts() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if c.TLSEnabled() {
		tc, err := c.TLSFiles.Config()
		if err != nil {
			return nil, fmt.Errorf("kafka tls: %w", err)
		}
		// kgo clones the config per broker and fills ServerName with the
		// host dialed when it is empty.
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	mech, err := c.mechanism()
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	return opts, nil
}

// mechanism is the SASL mechanism of c, nil without SASL.
func (c KafkaConfig) mechanism() (sasl.Mechanism, error) {
	name := strings.ToUpper(strings.TrimSpace(c.SASLMechanism))
	if name == "" {
		if c.SASLUser != "" || c.SASLPassword != "" {
			return nil, errors.New("kafka sasl: a user or password is set but no mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
		}
		return nil, nil
	}
	if c.SASLUser == "" {
		return nil, fmt.Errorf("kafka sasl %s: the user is empty", name)
	}
	if c.SASLPassword == "" {
		return nil, fmt.Errorf("kafka sasl %s: the password is empty", name)
	}
	switch name {
	case SASLPlain:
		return plain.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsMechanism(), nil
	case SASLScramSHA256:
		return scram.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsSha256Mechanism(), nil
	case SASLScramSHA512:
		return scram.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("kafka sasl mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASLMechanism)
}

// Describe is the config in words for a start-up log line, without the
// password: "tls (ca ca.pem), sasl SCRAM-SHA-512 as loglambda".
func (c KafkaConfig) Describe() string {
	var parts []string
	if c.TLSEnabled() {
		t := "tls"
		if c.CAFile != "" {
			t += " (ca " + c.CAFile + ")"
		} else {
			t += " (system roots)"
		}
		if c.CertFile != "" {
			t += " with client certificate " + c.CertFile
		}
		parts = append(parts, t)
	}
	if c.SASLMechanism != "" {
		parts = append(parts, "sasl "+strings.ToUpper(c.SASLMechanism)+" as "+c.SASLUser)
	}
	if len(parts) == 0 {
		return "plaintext"
	}
	return strings.Join(parts, ", ")
}
