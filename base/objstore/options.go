package objstore

import "github.com/loglambda/loglambda/base/secure"

// Opt configures Open.
type Opt func(*cfg)

// cfg holds the S3 settings of Open; the zero value is AWS S3 over TLS with
// credentials from the usual AWS variables and files.
type cfg struct {
	endpoint string
	tls      secure.TLSFiles
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
