package serving

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves the certificate of a key pair of files and loads it
// again when either file changes, so a certificate renewed by cert-manager
// or certbot is picked up without a restart. A renewal that leaves the pair
// unreadable or mismatched (the key written before the certificate) keeps
// the previous certificate and is logged; the next check tries again.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	// checkEvery bounds how often the files are looked at: a handshake
	// costs a stat of each at most this often.
	checkEvery time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	certPEM []byte // the bytes loaded, to tell a real change from a touch
	keyPEM  []byte
	checked time.Time
	stamp   [2]fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func newCertReloader(certFile, keyFile string, logger *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, logger: logger, checkEvery: time.Second}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

// load reads both files; it replaces the certificate only when they parse
// as a pair.
func (r *certReloader) load() error {
	certPEM, err := os.ReadFile(r.certFile)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(r.keyFile)
	if err != nil {
		return fmt.Errorf("tls key: %w", err)
	}
	if r.cert != nil && bytes.Equal(certPEM, r.certPEM) && bytes.Equal(keyPEM, r.keyPEM) {
		return nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("tls certificate %s with key %s: %w", r.certFile, r.keyFile, err)
	}
	if r.cert != nil {
		r.logger.Info("tls certificate reloaded", "cert", r.certFile)
	}
	r.cert, r.certPEM, r.keyPEM = &cert, certPEM, keyPEM
	return nil
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}
}

// GetCertificate is tls.Config.GetCertificate: the current certificate,
// reloaded first when a file changed since the last check.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= r.checkEvery {
		r.checked = now
		st := [2]fileStamp{stampOf(r.certFile), stampOf(r.keyFile)}
		if st != r.stamp {
			if err := r.load(); err != nil {
				r.logger.Warn("tls certificate reload failed; serving the previous one", "err", err)
			} else {
				r.stamp = st
			}
		}
	}
	return r.cert, nil
}

// serverTLS is the TLS config of both listeners, nil without TLS.
func (s *Server) serverTLS() *tls.Config {
	if s.certs == nil {
		return nil
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certs.GetCertificate,
		NextProtos: []string{"h2", "http/1.1"}}
}
