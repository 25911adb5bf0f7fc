package serving

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Scope is what a bearer token may do. Scopes are ordered: a token of a
// scope may do everything the lower scopes allow, as Grafana's viewer,
// editor and admin roles, so one admin token also reads the dashboard.
type Scope int

const (
	// ScopeNone is no scope: open endpoints only.
	ScopeNone Scope = iota
	// ScopeRead reads the views and the status (GET /v1/..., the gRPC
	// queries, /metrics unless it is open).
	ScopeRead
	// ScopeSQL also runs SQL over the lake (POST /v1/sql).
	ScopeSQL
	// ScopeAdmin also reloads: POST /v1/admin/reload refreshes the cache
	// from MongoDB at once.
	ScopeAdmin
)

var scopeNames = map[string]Scope{"read": ScopeRead, "sql": ScopeSQL, "admin": ScopeAdmin}

func (s Scope) String() string {
	for n, v := range scopeNames {
		if v == s {
			return n
		}
	}
	return "none"
}

// Tokens are the bearer tokens the API accepts, each with its scope. Only
// SHA-256 digests are kept, and a token is checked against every digest in
// constant time, so neither the memory nor the timing of a check tells
// how close a guess came.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	digest [sha256.Size]byte
	scope  Scope
}

// minTokenLen rejects tokens short enough to guess over the network.
const minTokenLen = 16

// ParseTokens reads a tokens file: one "TOKEN SCOPE" per line (scope read,
// sql or admin), blank lines and lines starting with # ignored. Errors name
// the line, never the token.
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want \"TOKEN SCOPE\" (scope read, sql or admin), got %d fields", n, len(f))
		}
		scope, ok := scopeNames[strings.ToLower(f[1])]
		if !ok {
			return nil, fmt.Errorf("line %d: scope %q: want read, sql or admin", n, f[1])
		}
		if len(f[0]) < minTokenLen {
			return nil, fmt.Errorf("line %d: token of %d characters is shorter than %d (e.g. openssl rand -hex 32)", n, len(f[0]), minTokenLen)
		}
		t.entries = append(t.entries, tokenEntry{digest: sha256.Sum256([]byte(f[0])), scope: scope})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t.entries) == 0 {
		return nil, fmt.Errorf("no tokens: want one \"TOKEN SCOPE\" per line")
	}
	return t, nil
}

// LoadTokens reads the tokens file at path (see ParseTokens).
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	return t, nil
}

// scopeOf is the scope of token, ScopeNone when it is not known. Every
// entry is compared, whether or not an earlier one matched.
func (t *Tokens) scopeOf(token string) Scope {
	if token == "" {
		return ScopeNone
	}
	d := sha256.Sum256([]byte(token))
	best := ScopeNone
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 && e.scope > best {
			best = e.scope
		}
	}
	return best
}

// bearer is the token of an "Authorization: Bearer TOKEN" value.
func bearer(h string) string {
	const prefix = "bearer "
	if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
		return strings.TrimSpace(h[len(prefix):])
	}
	return ""
}

// Messages of refused requests: the same whatever was wrong with the
// token (missing, unknown, malformed), so an answer tells a guesser
// nothing.
const (
	msgUnauthenticated = "unauthorized: send a valid token as Authorization: Bearer TOKEN"
	msgForbidden       = "forbidden: the token's scope does not allow this"
)

// httpScope is the scope a request needs: none for the probes and the
// dashboard's static files (the page asks for a token itself), none or
// read for /metrics, sql for /v1/sql, admin under /v1/admin/ and for
// POST /v1/rules/reload, read for
// everything else, unknown paths included, so that a 404 tells nothing
// without a token either.
func (s *Server) httpScope(path string) Scope {
	switch {
	case path == "/healthz" || path == "/readyz":
		return ScopeNone
	case path == "/metrics" && s.cfg.openMetrics:
		return ScopeNone
	case s.openPaths[path]:
		return ScopeNone
	case path == "/v1/sql":
		return ScopeSQL
	case strings.HasPrefix(path, "/v1/admin/"), path == "/v1/rules/reload":
		return ScopeAdmin
	}
	return ScopeRead
}

// withAuth refuses requests whose bearer token lacks the scope of their
// path: 401 without a known token, 403 with a known one of a lower scope.
func (s *Server) withAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		need := s.httpScope(r.URL.Path)
		if need == ScopeNone {
			next.ServeHTTP(w, r)
			return
		}
		switch have := s.cfg.tokens.scopeOf(bearer(r.Header.Get("Authorization"))); {
		case have == ScopeNone:
			w.Header().Set("WWW-Authenticate", `Bearer realm="loglambda"`)
			writeError(w, http.StatusUnauthorized, msgUnauthenticated)
			s.metrics.requests.WithLabelValues("unauthorized", "401").Inc()
		case have < need:
			writeError(w, http.StatusForbidden, msgForbidden)
			s.metrics.requests.WithLabelValues("forbidden", "403").Inc()
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// grpcScope is the scope a gRPC method needs: none for health and
// reflection (grpcurl lists the services without a token; the data needs
// one), read for the queries.
func grpcScope(method string) Scope {
	switch {
	case strings.HasPrefix(method, "/grpc.health.v1.Health/"),
		strings.HasPrefix(method, "/grpc.reflection."):
		return ScopeNone
	case strings.HasSuffix(method, "/Sql"):
		return ScopeSQL
	case strings.Contains(method, "/Admin"):
		return ScopeAdmin
	}
	return ScopeRead
}

// grpcAuthorize checks the "authorization: Bearer TOKEN" metadata of a call
// against the method's scope.
func (s *Server) grpcAuthorize(ctx context.Context, method string) error {
	need := grpcScope(method)
	if need == ScopeNone {
		return nil
	}
	var token string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			token = bearer(v[0])
		}
	}
	switch have := s.cfg.tokens.scopeOf(token); {
	case have == ScopeNone:
		return status.Error(codes.Unauthenticated, msgUnauthenticated)
	case have < need:
		return status.Error(codes.PermissionDenied, msgForbidden)
	}
	return nil
}

func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := s.grpcAuthorize(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := s.grpcAuthorize(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

// grpcAuthOptions are the interceptors of a server with tokens, none
// without.
func (s *Server) grpcAuthOptions() []grpc.ServerOption {
	if s.cfg.tokens == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(s.authUnary), grpc.ChainStreamInterceptor(s.authStream)}
}

// handleAdminReload refreshes the cache from MongoDB now rather than at
// the next interval: after a manual fix of view documents, or a batch
// run an operator wants to see at once.
func (s *Server) handleAdminReload(w http.ResponseWriter, r *http.Request) {
	if err := s.Refresh(r.Context()); err != nil {
		s.cfg.logger.Warn("admin reload failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "reload failed: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reloaded": true, "batch_horizon": jsonTime(s.snap.Load().horizon)})
}
