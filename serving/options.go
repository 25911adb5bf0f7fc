package serving

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/alerts"
	"github.com/loglambda/loglambda/serving/lakesql"
)

// Opt configures a Server; pass options to New.
type Opt func(*cfg)

// cfg holds every setting of a Server; defaults live in defaultCfg.
type cfg struct {
	// What is served.
	topic string
	pane  time.Duration
	lake  string
	// sqlOpts are the limits of SQL over the lake (POST /v1/sql).
	sqlOpts []lakesql.Opt

	// grpcAddr is where Run serves gRPC besides HTTP; empty: no gRPC.
	grpcAddr string
	// pprofAddr is where Run serves net/http/pprof; empty: nowhere.
	pprofAddr string

	// How the cache follows MongoDB.
	refreshInterval time.Duration
	// refreshMargin is how far before the newest `updated` already seen the
	// next refresh reads again. Several speed writers stamp `updated` from
	// their own clocks and a bulk write becomes visible after it was
	// stamped, so a document can appear with an `updated` a little older
	// than one already read. Re-reading is harmless: a document replaces
	// its previous state by _id.
	refreshMargin time.Duration
	// spillDir is where held pane encodings go (SpillDir); empty: memory.
	spillDir string

	// Query limits.
	maxRange   time.Duration
	maxK       int
	maxBuckets int

	// Security (secopts.go): bearer tokens, nil for an open API; TLS
	// certificate and key files, empty for plaintext.
	tokens          *Tokens
	openMetrics     bool
	tlsCert, tlsKey string
	// Alerting (alerting.go): the rule file, the evaluation interval, the
	// dashboard link of notifications and further engine options.
	rulesFile    string
	alertEvery   time.Duration
	dashboardURL string
	alertOpts    []alerts.Opt

	now    func() time.Time
	logger *slog.Logger

	// backlogs reports the layers of this process (see Backlogs).
	backlogs func() []Backlog
	// endOffsets reads the broker's end offsets (see EndOffsets).
	endOffsets func(context.Context) (map[int32]int64, error)
}

// DefaultRefreshInterval is how often Run refreshes the cache by default.
const DefaultRefreshInterval = time.Second

func defaultCfg() cfg {
	return cfg{
		topic:           "logs",
		pane:            views.DefaultPane,
		lake:            "./lake",
		refreshInterval: DefaultRefreshInterval,
		refreshMargin:   5 * time.Second,
		maxRange:        31 * 24 * time.Hour,
		maxK:            1000,
		maxBuckets:      10000,
		alertEvery:      alerts.DefaultEvery,
		now:             time.Now,
		logger:          slog.Default(),
	}
}

// Topic is the Kafka topic whose views are served (default "logs"); it
// selects the batch horizon, checkpoints and lake summary of that topic.
func Topic(topic string) Opt { return func(c *cfg) { c.topic = topic } }

// Pane is the pane width speed and batch write (default 1m); it must match
// theirs, and it is the finest step a traffic series can have.
func Pane(d time.Duration) Opt { return func(c *cfg) { c.pane = d } }

// RefreshInterval is how often Run refreshes the cache from MongoDB
// (default 1s): the delay before a speed write is visible to queries.
func RefreshInterval(d time.Duration) Opt { return func(c *cfg) { c.refreshInterval = d } }

// RefreshMargin is how far before the newest `updated` already read the
// next refresh reads speed documents again (default 5s); raise it when
// speed writers' clocks disagree by more.
func RefreshMargin(d time.Duration) Opt { return func(c *cfg) { c.refreshMargin = d } }

// Lake is the Parquet lake directory (default ./lake), reported in status
// and queried by POST /v1/sql; empty, POST /v1/sql answers 503.
func Lake(dir string) Opt { return func(c *cfg) { c.lake = dir } }

// SQL sets the limits of POST /v1/sql (row limit, timeout, memory limit,
// concurrency: see serving/lakesql); they are checked by New.
func SQL(opts ...lakesql.Opt) Opt { return func(c *cfg) { c.sqlOpts = append(c.sqlOpts, opts...) } }

// GRPC is the address Run serves the gRPC API on (loglambda.v1.QueryService,
// health and reflection) besides HTTP; empty, the default, serves none.
func GRPC(addr string) Opt { return func(c *cfg) { c.grpcAddr = addr } }

// PProf is the address Run serves Go's profiler on (/debug/pprof/), on a
// listener of its own: the API's tokens and TLS do not cover it, so it
// belongs on loopback. Empty, the default, serves none.
func PProf(addr string) Opt { return func(c *cfg) { c.pprofAddr = addr } }

// Now replaces the clock used for default query ranges (tests).
func Now(now func() time.Time) Opt { return func(c *cfg) { c.now = now } }

// SpillDir makes serving hold the encodings of the panes it keeps encoded
// (every pane of a complete hour, batch's all) in unlinked files created
// in dir rather than in memory, reading a view back when a range's edge or
// a step finer than an hour decodes it: a week of panes is 1 to 1.5 GB of
// encodings (spill.go). Empty (the default): held in memory.
func SpillDir(dir string) Opt { return func(c *cfg) { c.spillDir = dir } }

// Logger receives the server's logs (default slog.Default()).
func Logger(l *slog.Logger) Opt { return func(c *cfg) { c.logger = l } }

// validate checks every setting and names the offending one with its value.
func (c *cfg) validate() error {
	if c.topic == "" {
		return fmt.Errorf("topic is empty")
	}
	if _, err := views.NewGrid(c.pane); err != nil {
		return fmt.Errorf("pane: %w", err)
	}
	if c.pane%time.Second != 0 {
		// The cache keys panes by Unix second.
		return fmt.Errorf("pane %s is not a whole number of seconds", c.pane)
	}
	limits := []struct {
		name     string
		value    time.Duration
		min, max time.Duration
	}{
		{"refresh interval", c.refreshInterval, 10 * time.Millisecond, time.Hour},
		{"refresh margin", c.refreshMargin, 0, time.Hour},
	}
	for _, l := range limits {
		if l.value < l.min || l.value > l.max {
			return fmt.Errorf("%s %s is outside the allowed %s..%s", l.name, l.value, l.min, l.max)
		}
	}
	if c.grpcAddr != "" {
		if _, _, err := net.SplitHostPort(c.grpcAddr); err != nil {
			return fmt.Errorf("grpc address %q: %w", c.grpcAddr, err)
		}
	}
	if c.pprofAddr != "" {
		if _, _, err := net.SplitHostPort(c.pprofAddr); err != nil {
			return fmt.Errorf("pprof address %q: %w", c.pprofAddr, err)
		}
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return fmt.Errorf("tls needs both a certificate file and a key file (got certificate %q, key %q)", c.tlsCert, c.tlsKey)
	}
	if c.now == nil {
		return fmt.Errorf("clock is nil")
	}
	if c.logger == nil {
		return fmt.Errorf("logger is nil")
	}
	return nil
}
