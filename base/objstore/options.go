package objstore

import (
	"fmt"

	"github.com/loglambda/loglambda/base/secure"
)

// Opt configures Open.
type Opt func(*cfg)

// cfg holds the S3 settings of Open; the zero value is AWS S3 over TLS with
// credentials from the usual AWS variables and files.
type cfg struct {
	endpoint    string
	tls         secure.TLSFiles
	conditional Conditional
}

// S3Endpoint is the URL of an S3-compatible server ("http://127.0.0.1:8333",
// "https://minio.example:9000"): its scheme says whether to use TLS, and
// buckets are addressed by path (https://host/bucket/key), which every
// S3-compatible server understands. Empty: AWS S3 (s3.amazonaws.com, TLS,
// virtual-host addressing), region from AWS_REGION.
func S3Endpoint(url string) Opt { return func(c *cfg) { c.endpoint = url } }

// S3TLS sets the CA bundle (and client certificate) an https endpoint is
// verified with; empty files: the system roots.
func S3TLS(f secure.TLSFiles) Opt { return func(c *cfg) { c.tls = f } }

// Conditional says whether an S3 store sends conditional writes.
type Conditional string

const (
	// ConditionalAuto probes the server at Open: conditional writes when
	// it honours them, else emulated (see S3).
	ConditionalAuto Conditional = "auto"
	// ConditionalOn requires them: Open fails on a server that ignores
	// them.
	ConditionalOn Conditional = "on"
	// ConditionalOff never sends them: conditions are emulated by a read
	// before the write, which the lake's lease makes safe (see S3).
	ConditionalOff Conditional = "off"
)

// ParseConditional reads a Conditional: auto (or empty), on or off.
func ParseConditional(s string) (Conditional, error) {
	switch c := Conditional(s); c {
	case "":
		return ConditionalAuto, nil
	case ConditionalAuto, ConditionalOn, ConditionalOff:
		return c, nil
	}
	return "", fmt.Errorf("conditional writes %q: want auto, on or off", s)
}

// S3Conditional sets whether the S3 store uses the server's conditional
// writes (If-Match, If-None-Match); default ConditionalAuto.
func S3Conditional(c Conditional) Opt { return func(cfg *cfg) { cfg.conditional = c } }
