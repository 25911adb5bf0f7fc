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
	// DefaultSessionTimeout is how long the group waits for a member
	// that stopped heartbeating (Kafka's default): a static member
	// restarted within it takes its partitions back without a
	// rebalance; one that does not come back loses them after it.
	DefaultSessionTimeout = 45 * time.Second
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
	instanceID  string        // static membership; "" = dynamic
	session     time.Duration // the group session timeout
	hotCapacity int
	patterns    bool // mine patterns (the patterns view)

	// How often to write MongoDB.
	flushInterval time.Duration
	// maxHeld bounds the panes a partition holds with one of them dirty
	// before Run stops polling (see Speed.full): maxHeldPanes, lowered by
	// tests.
	maxHeld int

	registry prometheus.Registerer

	// Test hooks, set only by this package's tests. afterDocs runs after a flush wrote the documents and before it
	// writes the checkpoints; an error from it stops Run at once, without
	// a checkpoint and without the exit flush, as a crash would. abort,
	// when closed, stops Run the same way (a kill at a random moment).
	afterDocs func() error
	// beforeSend runs after the last check of a partition's epoch this
	// process makes before a command that writes the partition's
	// documents ("docs") or checkpoint ("checkpoint"): only the send
	// follows (a test stops there).
	beforeSend func(partition int32, what string)
	abort      <-chan struct{}
}

func defaultCfg() cfg {
	return cfg{
		Settings:      settings.Defaults(),
		group:         DefaultGroup,
		session:       DefaultSessionTimeout,
		hotCapacity:   views.DefaultHotCapacity,
		flushInterval: DefaultFlushInterval,
		maxHeld:       maxHeldPanes,
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
	case c.session < 6*time.Second || c.session > 30*time.Minute:
		// Kafka's default group.min/max.session.timeout.ms bounds.
		return fmt.Errorf("session timeout %s is outside 6s..30m", c.session)
	}
	return nil
}

// Group is the Kafka consumer group (default "loglambda-speed"). Instances
// in one group share the partitions; MongoDB, not the group's committed
// offsets, says where each partition resumes.
func Group(g string) Opt { return own("Group", func(c *cfg) { c.group = g }) }

// InstanceID makes this member static (KIP-345): a member restarted with
// the same id within the session timeout takes its partitions back at once,
// and the other members keep theirs without a rebalance. Two live members
// must never share an id (the broker fences the older one). Empty (the
// default in code): a dynamic member, whose restart is a new member.
func InstanceID(id string) Opt { return own("InstanceID", func(c *cfg) { c.instanceID = id }) }

// SessionTimeout is how long the group waits for a silent member before
// giving its partitions to the others (default DefaultSessionTimeout).
func SessionTimeout(d time.Duration) Opt {
	return own("SessionTimeout", func(c *cfg) { c.session = d })
}

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

func withBeforeSend(f func(partition int32, what string)) Opt {
	return own("withBeforeSend", func(c *cfg) { c.beforeSend = f })
}

// withAbort stops Run without flushing once ch is closed (tests: kill).
// withMaxHeld lowers the bound of panes held per partition (maxHeldPanes),
// so that a test's backlog meets it.
func withMaxHeld(n int) Opt { return own("withMaxHeld", func(c *cfg) { c.maxHeld = n }) }

func withAbort(ch <-chan struct{}) Opt { return own("withAbort", func(c *cfg) { c.abort = ch }) }
