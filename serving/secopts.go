package serving

// Options of the API's security: bearer tokens and TLS (auth.go, tls.go).

// WithTokens makes every endpoint except /healthz, /readyz, the
// dashboard's static files and (with OpenMetrics) /metrics require a bearer
// token of the endpoint's scope, over HTTP and gRPC alike. Nil, the
// default, leaves the API open.
func WithTokens(t *Tokens) Opt { return func(c *cfg) { c.tokens = t } }

// OpenMetrics serves /metrics without a token even when tokens are
// required, for a Prometheus that scrapes without credentials; by default
// /metrics needs a read token.
func OpenMetrics(open bool) Opt { return func(c *cfg) { c.openMetrics = open } }

// TLS serves HTTPS and gRPC over TLS with the PEM certificate (chain) and
// key in these files, loaded again when they change. Both empty, the
// default: plaintext.
func TLS(certFile, keyFile string) Opt {
	return func(c *cfg) { c.tlsCert, c.tlsKey = certFile, keyFile }
}
