package serving

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/loglambda/loglambda/base/secure/securetest"
	"github.com/loglambda/loglambda/internal/testkit"
	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// The test's tokens, one per scope.
const (
	readToken  = "read-token-0123456789abcdef"
	sqlToken   = "sql-token-0123456789abcdef"
	adminToken = "admin-token-0123456789abcdef"
)

// secureServer runs a server with TLS and the three tokens over a lake of
// sqlEvents, HTTP and gRPC, until the end of the test. It returns the
// HTTPS base URL, the gRPC address and the certificates.
func secureServer(t *testing.T, opts ...Opt) (base, grpcAddr string, certs *securetest.Files) {
	t.Helper()
	certs = securetest.New(t)
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "tokens")
	tokText := fmt.Sprintf("# scope per token\n%s read\n\n%s sql\n%s admin\n", readToken, sqlToken, adminToken)
	if err := os.WriteFile(tokFile, []byte(tokText), 0o600); err != nil {
		t.Fatal(err)
	}
	toks, err := LoadTokens(tokFile)
	if err != nil {
		t.Fatal(err)
	}
	lake := t.TempDir()
	writeTestLake(t, lake, topic, sqlEvents())
	httpAddr, grpcAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	srv, err := New(testDB(t), append([]Opt{Topic(topic), Lake(lake), GRPC(grpcAddr), RefreshInterval(50 * time.Millisecond),
		WithTokens(toks), TLS(certs.ServerCert, certs.ServerKey)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, httpAddr) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	base = "https://" + httpAddr
	cl := tlsClient(certs)
	testkit.Await(t, 2*time.Minute, "/readyz 200", func() error {
		resp, err := cl.Get(base + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s", resp.Status)
		}
		return nil
	})
	return base, grpcAddr, certs
}

func tlsClient(certs *securetest.Files) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: certs.ClientConfig(), ForceAttemptHTTP2: true}}
}

// call makes a request with the token (none when empty) and returns the
// status and body.
func call(t *testing.T, cl *http.Client, method, url, token, body string) (int, []byte) {
	t.Helper()
	req := testkit.Request(t, method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, data := testkit.Do(t, cl, req)
	return resp.StatusCode, data
}

func TestHTTPTokenScopes(t *testing.T) {
	base, _, certs := secureServer(t)
	cl := tlsClient(certs)
	type endpoint struct {
		method, path, body string
		need               Scope
	}
	eps := []endpoint{
		{"GET", "/v1/hot?from=2026-11-20T10:00:00Z&to=2026-11-20T11:00:00Z", "", ScopeRead},
		{"GET", "/v1/status", "", ScopeRead},
		{"GET", "/metrics", "", ScopeRead},
		{"GET", "/v1/nothing-here", "", ScopeRead},
		{"POST", "/v1/sql", "SELECT count(*) AS n FROM logs", ScopeSQL},
		{"POST", "/v1/admin/reload", "", ScopeAdmin},
		{"GET", "/healthz", "", ScopeNone},
		{"GET", "/readyz", "", ScopeNone},
		{"GET", "/", "", ScopeNone},
		{"GET", "/dashboard/app.js", "", ScopeNone},
	}
	tokens := []struct {
		token string
		scope Scope
	}{
		{"", ScopeNone}, {"wrong-token-0123456789abcdef", ScopeNone}, {readToken + "x", ScopeNone},
		{readToken, ScopeRead}, {sqlToken, ScopeSQL}, {adminToken, ScopeAdmin},
	}
	for _, ep := range eps {
		for _, tok := range tokens {
			t.Run(fmt.Sprintf("%s %s as %s %q", ep.method, ep.path, tok.scope, tok.token), func(t *testing.T) {
				code, body := call(t, cl, ep.method, base+ep.path, tok.token, ep.body)
				want := http.StatusOK
				switch {
				case ep.need > ScopeNone && tok.scope == ScopeNone:
					want = http.StatusUnauthorized
				case ep.need > tok.scope:
					want = http.StatusForbidden
				case ep.path == "/v1/nothing-here":
					want = http.StatusNotFound
				}
				if code != want {
					t.Fatalf("status %d, want %d: %s", code, want, body)
				}
				if want == http.StatusUnauthorized || want == http.StatusForbidden {
					var e struct{ Error string }
					if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
						t.Fatalf("refusal is not a JSON error: %s", body)
					}
					// The same answer for a missing, a wrong and a nearly right token.
					if want == http.StatusUnauthorized && e.Error != msgUnauthenticated {
						t.Fatalf("401 says %q, want the fixed %q", e.Error, msgUnauthenticated)
					}
				}
				if ep.path == "/v1/sql" && want == http.StatusOK {
					var ans sqlJSON
					if err := json.Unmarshal(body, &ans); err != nil || len(ans.Rows) != 1 {
						t.Fatalf("sql answer %s: %v", body, err)
					}
					if n := ans.Rows[0][0].(float64); int(n) != len(sqlEvents()) {
						t.Fatalf("sql counted %v events, want %d", n, len(sqlEvents()))
					}
				}
			})
		}
	}
}

func TestOpenMetrics(t *testing.T) {
	base, _, certs := secureServer(t, OpenMetrics(true))
	cl := tlsClient(certs)
	if code, body := call(t, cl, "GET", base+"/metrics", "", ""); code != http.StatusOK || !bytes.Contains(body, []byte("loglambda_")) {
		t.Fatalf("open /metrics: %d %.200s", code, body)
	}
	if code, _ := call(t, cl, "GET", base+"/v1/status", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("/v1/status without a token: %d, want 401", code)
	}
}

func TestPlaintextRefusedOnTLS(t *testing.T) {
	base, _, _ := secureServer(t)
	resp, err := http.Get("http" + strings.TrimPrefix(base, "https") + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP to the TLS port answered %d", resp.StatusCode)
		}
	}
	// An untrusting client fails the handshake.
	if _, err := http.Get(base + "/healthz"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("client without the CA: %v, want a certificate error", err)
	}
}

func TestGRPCTokenScopes(t *testing.T) {
	_, grpcAddr, certs := secureServer(t)
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(certs.ClientConfig())))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	q := llv1.NewQueryServiceClient(conn)
	withToken := func(tok string) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		t.Cleanup(cancel)
		if tok == "" {
			return ctx
		}
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	}
	cases := []struct {
		token string
		want  codes.Code
	}{
		{"", codes.Unauthenticated},
		{"wrong-token-0123456789abcdef", codes.Unauthenticated},
		{"Basic " + readToken, codes.Unauthenticated},
		{readToken, codes.OK},
		{sqlToken, codes.OK},
		{adminToken, codes.OK},
	}
	for _, c := range cases {
		_, err := q.Hot(withToken(c.token), &llv1.HotRequest{})
		if status.Code(err) != c.want {
			t.Errorf("Hot with %q: %v, want %s", c.token, err, c.want)
		}
		_, err = q.Status(withToken(c.token), &llv1.StatusRequest{})
		if status.Code(err) != c.want {
			t.Errorf("Status with %q: %v, want %s", c.token, err, c.want)
		}
		if c.want == codes.Unauthenticated && status.Convert(err).Message() != msgUnauthenticated {
			t.Errorf("Unauthenticated says %q", status.Convert(err).Message())
		}
	}
	// Health and reflection stay open: probes and grpcurl list need no token.
	if r, err := healthpb.NewHealthClient(conn).Check(withToken(""), &healthpb.HealthCheckRequest{}); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health without a token: %v %v", r, err)
	}
	st, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(withToken(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	if r, err := st.Recv(); err != nil || r.GetListServicesResponse() == nil {
		t.Errorf("reflection without a token: %v %v", r, err)
	}
	// A plaintext client does not get through the TLS port.
	plain, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := llv1.NewQueryServiceClient(plain).Hot(withToken(readToken), &llv1.HotRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("client without the CA: %v, want Unavailable", err)
	}
}

// TestTLSCertificateReload replaces the certificate files and checks a new
// connection gets the new certificate without a restart.
func TestTLSCertificateReload(t *testing.T) {
	base, _, certs := secureServer(t)
	addr := strings.TrimPrefix(base, "https://")
	serial := func() string {
		c, err := tls.Dial("tcp", addr, certs.ClientConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	certs.Issue(t, "server", certs.ServerCert, certs.ServerKey)
	testkit.Await(t, time.Minute, "the new certificate to be served", func() error {
		if serial() == before {
			return errors.New("still the old serial")
		}
		return nil
	})
	// A broken pair keeps the last good certificate.
	good := serial()
	if err := os.WriteFile(certs.ServerKey, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	if got := serial(); got != good {
		t.Fatalf("serial %s after a broken key, want the last good %s", got, good)
	}
}

func TestParseTokens(t *testing.T) {
	cases := []struct{ name, text, err string }{
		{"ok", "# c\n" + readToken + " read\n" + adminToken + " ADMIN\n", ""},
		{"empty", "\n# only comments\n", "no tokens"},
		{"bad scope", readToken + " write\n", `line 1: scope "write"`},
		{"short", "abc read\n", "line 1: token of 3 characters"},
		{"fields", readToken + "\n", "line 1: want"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTokens(strings.NewReader(c.text))
			if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("err %v, want %q", err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), readToken) {
				t.Fatalf("error shows the token: %v", err)
			}
		})
	}
}
