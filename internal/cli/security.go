package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/base/secure"
	"github.com/loglambda/loglambda/serving"
)

// The security flags: TLS and SASL to Kafka, TLS files for MongoDB, TLS
// and bearer tokens on the API. Secrets come from flags, LOGLAMBDA_*
// variables or files, and are never shown: secretValue prints nothing, so
// --help cannot show a password given in the environment.

// secretValue is a flag holding a secret; its String is empty.
type secretValue struct{ v string }

func (s *secretValue) String() string     { return "" }
func (s *secretValue) Set(v string) error { s.v = v; return nil }

// kafkaSecFlags are the flags of every command that talks to Kafka.
type kafkaSecFlags struct {
	tls          bool
	files        secure.TLSFiles
	mechanism    string
	user         string
	password     secretValue
	passwordFile string
}

func (k *kafkaSecFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&k.tls, "kafka-tls", false, "connect to the brokers over TLS, trusting the system roots (implied by any --kafka-tls-* flag)")
	fs.StringVar(&k.files.CAFile, "kafka-tls-ca-file", "", "PEM file of the CA that signs the brokers' certificates (instead of the system roots)")
	fs.StringVar(&k.files.CertFile, "kafka-tls-cert-file", "", "PEM client certificate, for brokers that require one (mutual TLS)")
	fs.StringVar(&k.files.KeyFile, "kafka-tls-key-file", "", "PEM key of --kafka-tls-cert-file")
	fs.StringVar(&k.files.ServerName, "kafka-tls-server-name", "", "name the brokers' certificates must carry, when it differs from the host dialed")
	fs.StringVar(&k.mechanism, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty: no SASL")
	fs.StringVar(&k.user, "kafka-sasl-user", "", "SASL user name")
	fs.Var(&k.password, "kafka-sasl-password", "SASL password (prefer --kafka-sasl-password-file or the environment: a flag shows in ps)")
	fs.StringVar(&k.passwordFile, "kafka-sasl-password-file", "", "file holding the SASL password (trailing newline ignored), e.g. a mounted Kubernetes secret")
}

// config is the flags as a secure.KafkaConfig, the password read from its
// file when given.
func (k *kafkaSecFlags) config() (secure.KafkaConfig, error) {
	c := secure.KafkaConfig{TLS: k.tls, TLSFiles: k.files, SASLMechanism: k.mechanism, SASLUser: k.user, SASLPassword: k.password.v}
	if k.passwordFile != "" {
		if k.password.v != "" {
			return c, fmt.Errorf("--kafka-sasl-password and --kafka-sasl-password-file are both set; keep one")
		}
		p, err := readSecretFile(k.passwordFile)
		if err != nil {
			return c, fmt.Errorf("--kafka-sasl-password-file: %w", err)
		}
		c.SASLPassword = p
	}
	return c, nil
}

// checkCredentials logs in to the brokers with the flags' settings
// within secure.CheckTimeout: a refused credential (wrong password,
// unknown user, untrusted or expired certificate) is an error naming its
// cause; a broker not reachable yet is not one (the layers wait for it
// as they always did).
func (k *kafkaSecFlags) checkCredentials(ctx context.Context, brokers []string) error {
	c, err := k.config()
	if err != nil {
		return err
	}
	var ce *secure.CredentialError
	if err := secure.CheckKafka(ctx, brokers, c); errors.As(err, &ce) {
		return ce
	}
	return nil
}

// opts are the kgo options of the flags, none for a plaintext broker.
func (k *kafkaSecFlags) opts() ([]kgo.Opt, error) {
	c, err := k.config()
	if err != nil {
		return nil, err
	}
	opts, err := c.Opts()
	if err != nil {
		return nil, fmt.Errorf("--kafka-*: %w", err)
	}
	if strings.EqualFold(c.SASLMechanism, secure.SASLPlain) && !c.TLSEnabled() {
		slog.Warn("kafka SASL PLAIN without TLS sends the password in clear text; add --kafka-tls or --kafka-tls-ca-file")
	}
	return opts, nil
}

// describe is the Kafka security for a start-up log line, no secret in it.
func (k *kafkaSecFlags) describe() string {
	c, _ := k.config()
	return c.Describe()
}

// kcatFlags are kcat's -X settings for the flags (librdkafka's names):
// the protocol, the mechanism, the user and the CA and client
// certificate files; the password as a shell variable, never its value.
func (k *kafkaSecFlags) kcatFlags() string {
	c, _ := k.config()
	var x []string
	sasl := c.SASLMechanism != ""
	switch {
	case c.TLSEnabled() && sasl:
		x = append(x, "security.protocol=SASL_SSL")
	case c.TLSEnabled():
		x = append(x, "security.protocol=SSL")
	case sasl:
		x = append(x, "security.protocol=SASL_PLAINTEXT")
	}
	if sasl {
		x = append(x, "sasl.mechanisms="+strings.ToUpper(c.SASLMechanism), "sasl.username="+c.SASLUser,
			`sasl.password="$KAFKA_PASSWORD"`)
	}
	if c.CAFile != "" {
		x = append(x, "ssl.ca.location="+c.CAFile)
	}
	if c.CertFile != "" {
		x = append(x, "ssl.certificate.location="+c.CertFile, "ssl.key.location="+c.KeyFile)
	}
	var b strings.Builder
	for _, v := range x {
		b.WriteString(" -X " + v)
	}
	return b.String()
}

// loglambdaFlags are the --kafka-* flags for another loglambda command
// with the same settings; the password by its file when it came from one,
// else from the environment, never its value.
func (k *kafkaSecFlags) loglambdaFlags() string {
	c, _ := k.config()
	var b strings.Builder
	if c.TLS {
		b.WriteString(" --kafka-tls")
	}
	for _, f := range []struct{ flag, v string }{
		{"kafka-tls-ca-file", c.CAFile}, {"kafka-tls-cert-file", c.CertFile}, {"kafka-tls-key-file", c.KeyFile},
		{"kafka-tls-server-name", c.ServerName}, {"kafka-sasl-mechanism", strings.ToUpper(c.SASLMechanism)},
		{"kafka-sasl-user", c.SASLUser}, {"kafka-sasl-password-file", k.passwordFile},
	} {
		if f.v != "" {
			b.WriteString(" --" + f.flag + " " + f.v)
		}
	}
	if c.SASLMechanism != "" && k.passwordFile == "" {
		b.WriteString(" (password: $LOGLAMBDA_KAFKA_SASL_PASSWORD)")
	}
	return b.String()
}

// readSecretFile reads a secret from a file, without its trailing line
// break (files written by echo or editors end in one).
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// mongoTLSFlags are the TLS files of the MongoDB connection; the rest of
// TLS (tls=true) and authentication stay in --mongo-uri as the driver
// defines them.
type mongoTLSFlags struct {
	files secure.TLSFiles
}

func (m *mongoTLSFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.files.CAFile, "mongo-tls-ca-file", "", "PEM file of the CA that signs MongoDB's certificate; turns TLS on (or set tls=true in --mongo-uri for the system roots)")
	fs.StringVar(&m.files.CertFile, "mongo-tls-cert-file", "", "PEM client certificate for MongoDB (mutual TLS, MONGODB-X509)")
	fs.StringVar(&m.files.KeyFile, "mongo-tls-key-file", "", "PEM key of --mongo-tls-cert-file")
}

// apply sets the TLS config of o from the files, if any.
func (m *mongoTLSFlags) apply(o *options.ClientOptions) error {
	if err := secure.MongoTLS(m.files).Apply(o); err != nil {
		return fmt.Errorf("--mongo-tls-*: %w", err)
	}
	return nil
}

// apiSecFlags are serve's TLS and token flags.
type apiSecFlags struct {
	tlsCert     string
	tlsKey      string
	tokensFile  string
	openMetrics bool
	pprof       string
}

func (a *apiSecFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.tlsCert, "tls-cert", "", "PEM certificate (chain) of the HTTP and gRPC API; with --tls-key serves HTTPS and gRPC over TLS, reloaded when the files change")
	fs.StringVar(&a.tlsKey, "tls-key", "", "PEM key of --tls-cert")
	fs.StringVar(&a.tokensFile, "api-tokens-file", "", "file of bearer tokens, one \"TOKEN SCOPE\" a line (read: views and status; sql: also POST /v1/sql; admin: also POST /v1/admin/reload); empty: the API is open")
	fs.BoolVar(&a.openMetrics, "metrics-open", false, "serve /metrics without a token even with --api-tokens-file (by default it needs a read token)")
	fs.StringVar(&a.pprof, "pprof", "", "listen address of Go's profiler (net/http/pprof: /debug/pprof/), apart from the API and without its tokens or TLS, so keep it on loopback; empty: none")
}

// options are the serving options of the flags.
func (a *apiSecFlags) options() ([]serving.Opt, error) {
	var opts []serving.Opt
	if a.tlsCert != "" || a.tlsKey != "" {
		if a.tlsCert == "" || a.tlsKey == "" {
			return nil, fmt.Errorf("--tls-cert and --tls-key go together")
		}
		opts = append(opts, serving.TLS(a.tlsCert, a.tlsKey))
	}
	if a.tokensFile != "" {
		t, err := serving.LoadTokens(a.tokensFile)
		if err != nil {
			return nil, fmt.Errorf("--api-tokens-file: %w", err)
		}
		opts = append(opts, serving.WithTokens(t))
	}
	return append(opts, serving.OpenMetrics(a.openMetrics), serving.PProf(a.pprof)), nil
}
