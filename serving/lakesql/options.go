package lakesql

import (
	"fmt"
	"regexp"
	"time"

	"github.com/loglambda/loglambda/base/objstore"
)

// Opt configures a Lake; pass options to New.
type Opt func(*cfg)

// cfg holds every limit of a Lake; defaults live in defaultCfg.
type cfg struct {
	// rowLimit is the most rows an answer holds; more are cut and the
	// answer says truncated.
	rowLimit int
	// timeout bounds a query from opening DuckDB to its last row.
	timeout time.Duration
	// memoryLimit is DuckDB's memory_limit for one query ("1GB").
	memoryLimit string
	// maxConcurrent is how many queries run at once; the others wait
	// (until their timeout). Each query has its own DuckDB with all cores
	// and memoryLimit, so this bounds the process's SQL memory to
	// maxConcurrent x memoryLimit.
	maxConcurrent int
	// store and cache are a remote lake (Remote); nil: the directory
	// given to New, read in place.
	store objstore.Store
	cache *objstore.Cache
}

// Defaults, printed by the commands' --help.
const (
	DefaultRowLimit      = 10000
	DefaultTimeout       = 30 * time.Second
	DefaultMemoryLimit   = "1GB"
	DefaultMaxConcurrent = 2
)

func defaultCfg() cfg {
	return cfg{
		rowLimit:      DefaultRowLimit,
		timeout:       DefaultTimeout,
		memoryLimit:   DefaultMemoryLimit,
		maxConcurrent: DefaultMaxConcurrent,
	}
}

// Remote reads the lake from store (an S3 bucket prefix) through cache:
// each query fetches the files it reads into the cache first (DuckDB reads
// local files only here). New's root then only names the lake in messages.
func Remote(store objstore.Store, cache *objstore.Cache) Opt {
	return func(c *cfg) { c.store, c.cache = store, cache }
}

// RowLimit is the most rows an answer holds (default 10000); a query with
// more rows is cut there and its answer says truncated.
func RowLimit(n int) Opt { return func(c *cfg) { c.rowLimit = n } }

// Timeout bounds each query (default 30s); DuckDB is interrupted when it
// passes.
func Timeout(d time.Duration) Opt { return func(c *cfg) { c.timeout = d } }

// MemoryLimit is DuckDB's memory_limit for each query, e.g. "512MB" or
// "2GiB" (default 1GB); a query needing more fails instead of spilling to
// disk.
func MemoryLimit(s string) Opt { return func(c *cfg) { c.memoryLimit = s } }

// MaxConcurrent is how many queries run at once (default 2); the others
// wait for a turn within their timeout.
func MaxConcurrent(n int) Opt { return func(c *cfg) { c.maxConcurrent = n } }

// memoryLimitRE is what DuckDB's memory_limit accepts and what we pass on:
// the value is spliced into a SET statement, so nothing else gets through.
var memoryLimitRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)? ?([KMGT]i?B|B)$`)

// validate checks every limit and names the offending one with its value.
func (c *cfg) validate() error {
	ints := []struct {
		name     string
		value    int
		min, max int
	}{
		{"row limit", c.rowLimit, 1, 1_000_000},
		{"max concurrent", c.maxConcurrent, 1, 64},
	}
	for _, l := range ints {
		if l.value < l.min || l.value > l.max {
			return fmt.Errorf("%s %d is outside the allowed %d..%d", l.name, l.value, l.min, l.max)
		}
	}
	if c.timeout < 10*time.Millisecond || c.timeout > time.Hour {
		return fmt.Errorf("timeout %s is outside the allowed 10ms..1h0m0s", c.timeout)
	}
	if !memoryLimitRE.MatchString(c.memoryLimit) {
		return fmt.Errorf("memory limit %q is not a size like 512MB or 2GiB", c.memoryLimit)
	}
	return nil
}
