package secure

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CheckTimeout bounds CheckKafka: a refused login or certificate is known
// within a round trip, so five seconds cover a slow network.
const CheckTimeout = 5 * time.Second

// CredentialError is a broker refusing this client's credentials: the
// SASL login (wrong password, unknown user, mechanism not enabled) or the
// TLS handshake (a certificate not trusted, expired, for another host, or
// the client's own refused). Retrying does not help; the message says
// what to change, never the password.
type CredentialError struct {
	// Cause is what was refused, in words a user acts on.
	Cause string
	// Setting is how this client was configured (KafkaConfig.Describe).
	Setting string
	Err     error
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("kafka credentials refused: %s (%s): %v", e.Cause, e.Setting, e.Err)
}

func (e *CredentialError) Unwrap() error { return e.Err }

// saslFailed is a kgo hook noting a SASL authenticate request whose
// answer never came: a broker that refuses a login may close the
// connection without a word (kfake does), which kgo reports as a bare EOF.
type saslFailed struct{ seen atomic.Bool }

func (h *saslFailed) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if (key == kmsg.SASLAuthenticate.Int16() || key == kmsg.SASLHandshake.Int16()) && e2e.Err() != nil {
		h.seen.Store(true)
	}
}

// CheckKafka logs in to the brokers with c, within CheckTimeout: nil when
// a broker answered; a *CredentialError when the credentials were
// refused; any other error (no broker reachable) as it is, for the caller
// to retry as it would anyway. Commands call it before they start, so a
// wrong password is said within seconds instead of a flush timeout later.
func CheckKafka(ctx context.Context, brokers []string, c KafkaConfig, opts ...kgo.Opt) error {
	sec, err := c.Opts()
	if err != nil {
		return err
	}
	hook := &saslFailed{}
	all := append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.WithHooks(hook)}, opts...)
	cl, err := kgo.NewClient(append(all, sec...)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	err = cl.Ping(ctx)
	if err == nil {
		return nil
	}
	if cause := credentialCause(err, hook.seen.Load(), c); cause != "" {
		return &CredentialError{Cause: cause, Setting: c.Describe(), Err: err}
	}
	return fmt.Errorf("kafka %s: %w", strings.Join(brokers, ","), err)
}

// credentialCause names what a failed login refused; "" when err is not
// about credentials.
func credentialCause(err error, saslDropped bool, c KafkaConfig) string {
	var (
		unknownCA x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		host      x509.HostnameError
		firstRead *kgo.ErrFirstReadEOF
	)
	mech := strings.ToUpper(c.SASLMechanism)
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return fmt.Sprintf("SASL %s login as %q failed: wrong password or unknown user", mech, c.SASLUser)
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return fmt.Sprintf("SASL mechanism %s is not enabled on the broker (--kafka-sasl-mechanism)", mech)
	case errors.Is(err, kerr.IllegalSaslState):
		return "the broker refused the SASL exchange"
	case saslDropped && c.SASLMechanism != "":
		return fmt.Sprintf("SASL %s login as %q refused (the broker closed the connection): wrong password, unknown user, or a mechanism not enabled for the user", mech, c.SASLUser)
	case errors.As(err, &unknownCA):
		return "the broker's certificate is signed by an authority this client does not trust (give its CA with --kafka-tls-ca-file)"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "the broker's certificate has expired or is not valid yet"
	case errors.As(err, &invalid):
		return "the broker's certificate is not valid: " + invalid.Error()
	case errors.As(err, &host):
		return fmt.Sprintf("the broker's certificate is not for %s (--kafka-tls-server-name)", host.Host)
	case errors.As(err, &firstRead):
		return firstRead.Error()
	}
	// A TLS alert from the broker (an unexported type in crypto/tls):
	// it refused what this client presented, its certificate most often.
	if i := strings.Index(err.Error(), "remote error: tls: "); i >= 0 {
		return "the broker refused this client's certificate or TLS settings (" + err.Error()[i:] + ")"
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return "the broker does not speak TLS there (drop --kafka-tls*, or use its TLS port)"
	}
	return ""
}
