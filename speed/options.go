package speed

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/layer"
	"github.com/loglambda/loglambda/internal/replace"
	"github.com/loglambda/loglambda/schemas/ingest"
	"github.com/loglambda/loglambda/schemas/views"
)

// Opt configures a Speed layer; see New. The options speed shares with
// batch (topic, ingest rules, pane, lateness, logger, clusters view) are
// package layer's; the rest are speed's own.
type Opt = layer.Opt

func own(name string, f func(*cfg)) Opt { return layer.Own(name, f) }

// Defaults of speed's own settings, printed by `loglambda speed --help`
// through the command's flags (the shared ones are package layer's).
const (
	DefaultGroup         = "loglambda-speed"
	DefaultFlushInterval = time.Second
)

// cfg holds every setting of a Speed layer, with its defaults set in one
// place (defaultCfg) and checked in one place (validate).
type cfg struct {
	// What to read.
	topic  string
	group  string
	format string // parser spec for records without a format header

	// How to build views.
	hotTerm     string
	uvField     string
	pane        time.Duration
	lateness    time.Duration
	hotCapacity int
	// clusters is built by validate from clusterFields (nil: the
	// default) and microClusters (0: the default).
	clusterFields *string
	microClusters int
	// parsed are the ingest rules given parsed (layer.Rules); nil: parsed
	// from format, hotTerm and uvField.
	parsed   *ingest.Rules
	clusters *views.ClusterSpec
	patterns bool // mine patterns (the patterns view)

	// How often to write MongoDB.
	flushInterval time.Duration

	logger   *slog.Logger
	registry prometheus.Registerer
	writer   *replace.Writer

	// clientOpts are added to the Kafka client: TLS and SASL (KafkaOpts),
	// and in this package's tests small fetch sizes that make a stream
	// take many polls. The rest are test hooks, set only by those tests.
	// afterDocs runs after a flush wrote the documents and before it
	// writes the checkpoints; an error from it stops Run at once, without
	// a checkpoint and without the exit flush, as a crash would. abort,
	// when closed, stops Run the same way (a kill at a random moment).
	clientOpts []kgo.Opt
	afterDocs  func() error
	abort      <-chan struct{}
}

func defaultCfg() cfg {
	c := cfg{
		group:         DefaultGroup,
		hotCapacity:   views.DefaultHotCapacity,
		flushInterval: DefaultFlushInterval,
		patterns:      true,
	}
	layer.SetDefaults(&c)
	return c
}

// LayerFields implements layer.Config: the settings speed shares with
// batch, set by the shared options and checked by layer.Check.
func (c *cfg) LayerFields() layer.Fields {
	return layer.Fields{Topic: &c.topic, Format: &c.format, HotTerm: &c.hotTerm, UVField: &c.uvField,
		Pane: &c.pane, Lateness: &c.lateness, Logger: &c.logger, Rules: &c.parsed,
		ClusterFields: &c.clusterFields, MicroClusters: &c.microClusters}
}

// validate checks speed's own settings and names each with its value in
// the error; layer.Check checks the shared ones.
func (c *cfg) validate() error {
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

// The options speed and batch share (topic, ingest rules, pane,
// lateness, logger, clusters view) are package layer's: give them to New
// beside this layer's own.

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

// Writer is the MongoDB writer (default: a replace.Writer of its own).
// Layers sharing one embedded store share one Writer, which runs one
// command at a time (see package replace).
func Writer(w *replace.Writer) Opt { return own("Writer", func(c *cfg) { c.writer = w }) }

// Registerer registers the layer's Prometheus metrics (default: none).
func Registerer(r prometheus.Registerer) Opt {
	return own("Registerer", func(c *cfg) { c.registry = r })
}

// withClientOpts adds Kafka client options (tests: small fetches).
func withClientOpts(o ...kgo.Opt) Opt {
	return own("withClientOpts", func(c *cfg) { c.clientOpts = append(c.clientOpts, o...) })
}

// withAfterDocs sets the hook run between a flush's documents and its
// checkpoints (tests: crash there).
func withAfterDocs(f func() error) Opt { return own("withAfterDocs", func(c *cfg) { c.afterDocs = f }) }

// withAbort stops Run without flushing once ch is closed (tests: kill).
func withAbort(ch <-chan struct{}) Opt { return own("withAbort", func(c *cfg) { c.abort = ch }) }
