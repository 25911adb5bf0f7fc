// Package securetest generates the certificates tests of TLS need: a CA,
// a server certificate for 127.0.0.1 and localhost, and a client
// certificate, written as PEM files in a test's temp dir.
package securetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/loglambda/loglambda/base/atomicfile"
)

// Files are the PEM files of one generated CA and the certificates it
// signed.
type Files struct {
	Dir        string
	CA         string
	ServerCert string
	ServerKey  string
	ClientCert string
	ClientKey  string

	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
}

// New writes a fresh CA, a server certificate (127.0.0.1, ::1, localhost)
// and a client certificate into a temp dir of t.
func New(t testing.TB) *Files {
	t.Helper()
	dir := t.TempDir()
	f := &Files{Dir: dir, CA: filepath.Join(dir, "ca.pem"),
		ServerCert: filepath.Join(dir, "server.pem"), ServerKey: filepath.Join(dir, "server-key.pem"),
		ClientCert: filepath.Join(dir, "client.pem"), ClientKey: filepath.Join(dir, "client-key.pem")}
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "loglambda test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	f.caCert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	f.caKey = key
	writePEM(t, f.CA, "CERTIFICATE", der)
	f.Issue(t, "server", f.ServerCert, f.ServerKey)
	f.Issue(t, "client", f.ClientCert, f.ClientKey)
	return f
}

// Issue writes a new certificate signed by the CA with the given common
// name to certFile and keyFile; "server" certificates are for 127.0.0.1,
// ::1 and localhost.
func (f *Files) Issue(t testing.TB, cn, certFile, keyFile string) {
	t.Helper()
	f.IssueValid(t, cn, certFile, keyFile, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

// IssueValid is Issue with the validity given: an expired certificate
// (notAfter in the past) for the tests of a refused handshake.
func (f *Files) IssueValid(t testing.TB, cn, certFile, keyFile string, notBefore, notAfter time.Time) {
	t.Helper()
	key := newKey(t)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if cn == "server" {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.caCert, &key.PublicKey, f.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	writePEM(t, certFile, "CERTIFICATE", der)
}

// Pool is a cert pool holding the CA.
func (f *Files) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(f.caCert)
	return p
}

// ServerConfig is a server TLS config with the server certificate; with
// mutual it also requires a client certificate signed by the CA.
func (f *Files) ServerConfig(t testing.TB, mutual bool) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(f.ServerCert, f.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if mutual {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = f.Pool()
	}
	return c
}

// ClientConfig is a client TLS config trusting the CA.
func (f *Files) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: f.Pool(), MinVersion: tls.VersionTLS12}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writePEM writes atomically, so a server reloading the file never reads
// half of it.
func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := atomicfile.Write(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
