package speed

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/replace"
	"github.com/loglambda/loglambda/schemas/formats"
	"github.com/loglambda/loglambda/schemas/views"
)

// Opt configures a Speed layer; see New.
type Opt interface{ apply(*cfg) }

type optFunc func(*cfg)

func (f optFunc) apply(c *cfg) { f(c) }

// Defaults, printed by `loglambda speed --help` through the root flags.
const (
	DefaultTopic         = "logs"
	DefaultGroup         = "loglambda-speed"
	DefaultFormat        = "json"
	DefaultHotTerm       = "param:q,Input"
	DefaultUVField       = formats.DefaultUVField
	DefaultLateness      = 2 * time.Minute
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
	patterns    bool // mine patterns (the patterns view)

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
	return cfg{
		topic:         DefaultTopic,
		group:         DefaultGroup,
		format:        DefaultFormat,
		hotTerm:       DefaultHotTerm,
		uvField:       DefaultUVField,
		pane:          views.DefaultPane,
		lateness:      DefaultLateness,
		hotCapacity:   views.DefaultHotCapacity,
		flushInterval: DefaultFlushInterval,
		patterns:      true,
		logger:        slog.Default(),
	}
}

// validate checks every setting and names it with its value in the error.
func (c *cfg) validate() error {
	switch {
	case c.topic == "":
		return fmt.Errorf("topic is empty")
	case c.group == "":
		return fmt.Errorf("group is empty")
	case c.lateness < 0:
		return fmt.Errorf("lateness %s is negative", c.lateness)
	case c.hotCapacity < 0:
		return fmt.Errorf("hot capacity %d is negative (0 counts exactly)", c.hotCapacity)
	case c.flushInterval <= 0:
		return fmt.Errorf("flush interval %s must be positive", c.flushInterval)
	case c.logger == nil:
		return fmt.Errorf("logger is nil")
	}
	if _, err := views.NewGrid(c.pane); err != nil {
		return err
	}
	return nil
}

// Topic is the Kafka topic to consume (default "logs"). One topic per
// MongoDB database: speed document ids name the partition, not the topic.
func Topic(t string) Opt { return optFunc(func(c *cfg) { c.topic = t }) }

// Group is the Kafka consumer group (default "loglambda-speed"). Instances
// in one group share the partitions; MongoDB, not the group's committed
// offsets, says where each partition resumes.
func Group(g string) Opt { return optFunc(func(c *cfg) { c.group = g }) }

// Format is the parser spec (formats.New) for records without a "format"
// header (default "json").
func Format(spec string) Opt { return optFunc(func(c *cfg) { c.format = spec }) }

// HotTerm is the rule extracting the hot view's search term
// (formats.NewHotTerm; default "param:q,Input").
func HotTerm(rule string) Opt { return optFunc(func(c *cfg) { c.hotTerm = rule }) }

// UVField is the visitor identity rule (formats.NewUVField; default
// "user,ip"): the first of these fields with a value is the visitor counted
// by UV. Plain access logs have no user: "ip". Speed and batch must use the
// same rule, or UV changes at the batch horizon.
func UVField(rule string) Opt { return optFunc(func(c *cfg) { c.uvField = rule }) }

// Pane is the pane width; it must divide an hour (default 1m).
func Pane(d time.Duration) Opt { return optFunc(func(c *cfg) { c.pane = d }) }

// Lateness is how far behind the newest event time of a partition an event
// may be and still count (default 2m): the watermark is the newest event
// time minus the lateness.
func Lateness(d time.Duration) Opt { return optFunc(func(c *cfg) { c.lateness = d }) }

// FlushInterval is how often dirty panes are written to MongoDB (default
// 1s): the freshness of the speed views, traded against write load.
func FlushInterval(d time.Duration) Opt { return optFunc(func(c *cfg) { c.flushInterval = d }) }

// HotCapacity is the number of terms each pane's hot summary keeps
// (default views.DefaultHotCapacity; 0 counts exactly, unbounded).
func HotCapacity(n int) Opt { return optFunc(func(c *cfg) { c.hotCapacity = n }) }

// Patterns turns the patterns view's mining on or off (default on). Off,
// its documents hold empty states: for measuring its cost, or for topics
// whose lines are not worth grouping.
func Patterns(on bool) Opt { return optFunc(func(c *cfg) { c.patterns = on }) }

// Logger receives the layer's logs (default slog.Default()).
func Logger(l *slog.Logger) Opt { return optFunc(func(c *cfg) { c.logger = l }) }

// Writer is the MongoDB writer (default: a replace.Writer of its own).
// Layers sharing one embedded store share one Writer, which runs one
// command at a time (see package replace).
func Writer(w *replace.Writer) Opt { return optFunc(func(c *cfg) { c.writer = w }) }

// Registerer registers the layer's Prometheus metrics (default: none).
func Registerer(r prometheus.Registerer) Opt { return optFunc(func(c *cfg) { c.registry = r }) }

// withClientOpts adds Kafka client options (tests: small fetches).
func withClientOpts(o ...kgo.Opt) Opt {
	return optFunc(func(c *cfg) { c.clientOpts = append(c.clientOpts, o...) })
}

// withAfterDocs sets the hook run between a flush's documents and its
// checkpoints (tests: crash there).
func withAfterDocs(f func() error) Opt { return optFunc(func(c *cfg) { c.afterDocs = f }) }

// withAbort stops Run without flushing once ch is closed (tests: kill).
func withAbort(ch <-chan struct{}) Opt { return optFunc(func(c *cfg) { c.abort = ch }) }
