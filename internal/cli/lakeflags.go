package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/loglambda/loglambda/base/objstore"
	"github.com/loglambda/loglambda/base/secure"
)

// defaultLakeCache is where a remote lake's files are cached by batch,
// serve and sql; up's is <data>/lake-cache.
const defaultLakeCache = defaultDataDir + "/lake-cache"

// lakeFlags are --lake and, for a lake in S3, where the server is and
// where its files are cached.
type lakeFlags struct {
	location    string
	endpoint    string
	caFile      string
	cacheDir    string
	cacheSize   string
	conditional string
}

// register adds --lake (default def; use says what the command does with
// it), --s3-endpoint, --s3-ca, --lake-cache and --lake-cache-size.
func (f *lakeFlags) register(fs *flag.FlagSet, def, use string) {
	fs.StringVar(&f.location, "lake", def, "the Parquet lake: a directory, or s3://bucket/prefix (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials or the instance role)"+use)
	fs.StringVar(&f.endpoint, "s3-endpoint", "", "S3-compatible server of an s3:// lake, http(s)://host:port (path-style; https: TLS); empty: AWS S3 (region from AWS_REGION)")
	fs.StringVar(&f.caFile, "s3-ca", "", "PEM CA bundle verifying an https --s3-endpoint; empty: the system roots")
	fs.StringVar(&f.cacheDir, "lake-cache", "", "directory caching an s3:// lake's files for DuckDB and merges; empty: "+defaultLakeCache+" (up: <data>/lake-cache)")
	fs.StringVar(&f.conditional, "s3-conditional", string(objstore.ConditionalAuto), "an s3:// lake's conditional writes (If-Match, If-None-Match): auto (used when the server honours them, else emulated under the writer's lease), on (required), off (emulated)")
	fs.StringVar(&f.cacheSize, "lake-cache-size", "8GiB", "bound of --lake-cache (least recently used files go first): bytes, or with KB/MB/GB/TB or KiB/MiB/GiB/TiB")
}

// remote reports whether --lake is an S3 lake.
func (f *lakeFlags) remote() bool { return objstore.IsS3(f.location) }

// open connects to a remote lake and opens its cache. A local lake
// returns nils: the layers open the directory themselves.
func (f *lakeFlags) open(ctx context.Context, defaultCache string) (objstore.Store, *objstore.Cache, error) {
	if !f.remote() {
		if f.endpoint != "" {
			return nil, nil, fmt.Errorf("--s3-endpoint %s is set but --lake %s is not s3://bucket/prefix", f.endpoint, f.location)
		}
		return nil, nil, nil
	}
	size, err := parseBytes(f.cacheSize)
	if err != nil {
		return nil, nil, fmt.Errorf("--lake-cache-size: %w", err)
	}
	cond, err := objstore.ParseConditional(f.conditional)
	if err != nil {
		return nil, nil, fmt.Errorf("--s3-conditional: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := objstore.Open(ctx, f.location, objstore.S3Endpoint(f.endpoint), objstore.S3TLS(secure.TLSFiles{CAFile: f.caFile}),
		objstore.S3Conditional(cond))
	if err != nil {
		return nil, nil, err
	}
	if objstore.Emulated(st) && cond == objstore.ConditionalAuto {
		slog.Warn("the S3 server ignores conditional writes: emulated (a read before each conditional write), the writer's lease keeps a single writer",
			"lake", f.location, "endpoint", f.endpoint)
	}
	dir := f.cacheDir
	if dir == "" {
		dir = defaultCache
	}
	c, err := objstore.NewCache(st, dir, size)
	if err != nil {
		return nil, nil, err
	}
	return st, c, nil
}

// parseBytes reads a size: a number of bytes, or one with a decimal (KB,
// MB, GB, TB) or binary (KiB, MiB, GiB, TiB) unit.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 || n*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is not a positive size (e.g. 500MB, 8GiB)", s)
	}
	return int64(n * float64(mult)), nil
}
