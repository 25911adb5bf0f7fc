package alerts

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Opt configures an Engine; pass options to New.
type Opt func(*cfg)

// cfg holds every setting of an Engine; defaults live in defaultCfg.
type cfg struct {
	// What is evaluated, how often.
	rulesFile string
	every     time.Duration

	// The lease: a holder that stops renewing is replaced after leaseTTL.
	holder   string
	leaseTTL time.Duration

	// Deliveries: the first retry after retryBase, doubling up to
	// retryMax, at most attempts tries in all.
	retryBase, retryMax time.Duration
	attempts            int
	httpClient          *http.Client

	// history is how long resolved alerts stay in /v1/alerts.
	history      time.Duration
	dashboardURL string

	now    func() time.Time
	logger *slog.Logger
	reg    prometheus.Registerer
}

// DefaultEvery is the default evaluation interval (--alert-every).
const DefaultEvery = 30 * time.Second

func defaultCfg() cfg {
	return cfg{
		every:      DefaultEvery,
		retryBase:  2 * time.Second,
		retryMax:   time.Minute,
		attempts:   8,
		httpClient: &http.Client{},
		history:    7 * 24 * time.Hour,
		now:        time.Now,
		logger:     slog.Default(),
	}
}

// RulesFile is the YAML rule file (empty, the default: no rules).
func RulesFile(path string) Opt { return func(c *cfg) { c.rulesFile = path } }

// Every is the evaluation interval (default 30s).
func Every(d time.Duration) Opt { return func(c *cfg) { c.every = d } }

// LeaseTTL is how long the evaluator lease lasts without renewal, so how
// soon another process takes over from one that died (default three
// evaluation intervals, at least 10s).
func LeaseTTL(d time.Duration) Opt { return func(c *cfg) { c.leaseTTL = d } }

// Holder names this process in the lease (default host:pid:random).
func Holder(id string) Opt { return func(c *cfg) { c.holder = id } }

// Retry sets the delivery retries: the first after base, doubling up to
// max, at most attempts tries in all (default 2s, 1m, 8: about 3 minutes)
// before a delivery fails for good.
func Retry(base, max time.Duration, attempts int) Opt {
	return func(c *cfg) { c.retryBase, c.retryMax, c.attempts = base, max, attempts }
}

// HTTPClient sends the webhooks (default a plain http.Client; each
// webhook's timeout applies per request).
func HTTPClient(cl *http.Client) Opt { return func(c *cfg) { c.httpClient = cl } }

// History is how long resolved alerts are kept (default 7 days).
func History(d time.Duration) Opt { return func(c *cfg) { c.history = d } }

// DashboardURL is linked from notifications when the rule file names none.
func DashboardURL(u string) Opt { return func(c *cfg) { c.dashboardURL = u } }

// Now replaces the clock (tests).
func Now(now func() time.Time) Opt { return func(c *cfg) { c.now = now } }

// Logger receives the engine's logs (default slog.Default()).
func Logger(l *slog.Logger) Opt { return func(c *cfg) { c.logger = l } }

// Registerer registers the engine's metrics (default: none registered).
func Registerer(r prometheus.Registerer) Opt { return func(c *cfg) { c.reg = r } }

func (c *cfg) validate() error {
	if c.leaseTTL == 0 {
		c.leaseTTL = max(3*c.every, 10*time.Second)
	}
	if c.holder == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.holder = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	limits := []struct {
		name     string
		value    time.Duration
		min, max time.Duration
	}{
		{"evaluation interval", c.every, 10 * time.Millisecond, time.Hour},
		{"lease ttl", c.leaseTTL, c.every, 24 * time.Hour},
		{"retry base", c.retryBase, time.Millisecond, time.Hour},
		{"retry max", c.retryMax, c.retryBase, 24 * time.Hour},
		{"history", c.history, time.Minute, 366 * 24 * time.Hour},
	}
	for _, l := range limits {
		if l.value < l.min || l.value > l.max {
			return fmt.Errorf("%s %s is outside the allowed %s..%s", l.name, l.value, l.min, l.max)
		}
	}
	if c.attempts < 1 || c.attempts > 100 {
		return fmt.Errorf("delivery attempts %d is outside the allowed 1..100", c.attempts)
	}
	if c.now == nil || c.logger == nil || c.httpClient == nil {
		return fmt.Errorf("clock, logger or http client is nil")
	}
	return nil
}
