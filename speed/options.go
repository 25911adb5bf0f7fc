package speed

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/schemas/views"
)

// Opt configures a Speed layer; see New. The options speed shares with
// batch (topic, ingest rules, pane, lateness, logger, clusters view,
// MongoDB writer, Kafka client options) are package settings'; the rest are
// speed's own.
type Opt = settings.Opt

func own(name string, f func(*cfg)) Opt { return settings.Own(name, f) }

// Defaults of speed's own settings, printed by `loglambda speed --help`
// through the command's flags (the shared ones are package settings').
const (
	DefaultGroup         = "loglambda-speed"
	DefaultFlushInterval = time.Second
)

// cfg holds every setting of a Speed layer, with its defaults set in one
// place (defaultCfg) and checked in one place (settings.Configure: the
// shared settings' Check, then Validate).
type cfg struct {
	// The settings speed shares with batch: topic, ingest rules, pane,
	// lateness, logger, clusters view, MongoDB writer, Kafka options.
	settings.Settings
	// clusters is the clusters view's spec, made by settings.Configure.
	clusters *views.ClusterSpec

	group       string
	hotCapacity int
	patterns    bool // mine patterns (the patterns view)

	// How often to write MongoDB.
	flushInterval time.Duration

	registry prometheus.Registerer

	// Test hooks, set only by this package's tests. afterDocs runs after a flush wrote the documents and before it
	// writes the checkpoints; an error from it stops Run at once, without
	// a checkpoint and without the exit flush, as a crash would. abort,
	// when closed, stops Run the same way (a kill at a random moment).
	afterDocs func() error
	abort     <-chan struct{}
}

func defaultCfg() cfg {
	return cfg{
		Settings:      settings.Defaults(),
		group:         DefaultGroup,
		hotCapacity:   views.DefaultHotCapacity,
		flushInterval: DefaultFlushInterval,
		patterns:      true,
	}
}

// Validate checks speed's own settings and names each with its value in
// the error; settings.Configure calls it after checking the shared ones.
func (c *cfg) Validate() error {
	switch {
	case c.group == "":
		return fmt.Errorf("group is empty")
	case c.hotCapacity < 0:
		return fmt.Errorf("hot capacity %d is negative (0 counts exactly)", c.hotCapacity)
	case c.flushInterval <= 0:
		return fmt.Errorf("flush interval %s must be positive", c.flushInterval)
	}
	return nil
}

// Group is the Kafka consumer group (default "loglambda-speed"). Instances
// in one group share the partitions; MongoDB, not the group's committed
// offsets, says where each partition resumes.
func Group(g string) Opt { return own("Group", func(c *cfg) { c.group = g }) }

// FlushInterval is how often dirty panes are written to MongoDB (default
// 1s): the freshness of the speed views, traded against write load.
func FlushInterval(d time.Duration) Opt {
	return own("FlushInterval", func(c *cfg) { c.flushInterval = d })
}

// HotCapacity is the number of terms each pane's hot summary keeps
// (default views.DefaultHotCapacity; 0 counts exactly, unbounded).
func HotCapacity(n int) Opt { return own("HotCapacity", func(c *cfg) { c.hotCapacity = n }) }

// Patterns turns the patterns view's mining on or off (default on). Off,
// its documents hold empty states: for measuring its cost, or for topics
// whose lines are not worth grouping.
func Patterns(on bool) Opt { return own("Patterns", func(c *cfg) { c.patterns = on }) }

// Registerer registers the layer's Prometheus metrics (default: none).
func Registerer(r prometheus.Registerer) Opt {
	return own("Registerer", func(c *cfg) { c.registry = r })
}

// withAfterDocs sets the hook run between a flush's documents and its
// checkpoints (tests: crash there).
func withAfterDocs(f func() error) Opt { return own("withAfterDocs", func(c *cfg) { c.afterDocs = f }) }

// withAbort stops Run without flushing once ch is closed (tests: kill).
func withAbort(ch <-chan struct{}) Opt { return own("withAbort", func(c *cfg) { c.abort = ch }) }
