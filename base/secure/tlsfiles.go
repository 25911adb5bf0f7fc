package secure

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSFiles names the PEM files of a TLS client: the CA bundle that signs
// the server's certificate (empty: the system roots) and the client's own
// certificate and key for servers that verify clients (mutual TLS).
type TLSFiles struct {
	CAFile   string
	CertFile string
	KeyFile  string
	// ServerName is the name the server's certificate must carry; empty:
	// the host dialed.
	ServerName string
}

// set reports whether any file or name is given.
func (f TLSFiles) set() bool {
	return f.CAFile != "" || f.CertFile != "" || f.KeyFile != "" || f.ServerName != ""
}

// Config reads the files into a client TLS config. The minimum version is
// TLS 1.2: older versions are disabled by every managed Kafka and MongoDB
// service, and offering them only widens what a downgrade can reach.
func (f TLSFiles) Config() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", f.CAFile)
		}
		c.RootCAs = pool
	}
	switch {
	case f.CertFile != "" && f.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s / key %s: %w", f.CertFile, f.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	case f.CertFile != "" || f.KeyFile != "":
		return nil, errors.New("a client certificate needs both the certificate file and the key file")
	}
	return c, nil
}
