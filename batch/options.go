package batch

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/replace"
	"github.com/loglambda/loglambda/schemas/formats"
	"github.com/loglambda/loglambda/schemas/views"
)

// Opt configures a Batch layer; see New.
type Opt interface{ apply(*cfg) }

type optFunc func(*cfg)

func (f optFunc) apply(c *cfg) { f(c) }

// Defaults, printed by `loglambda batch --help` through the root flags.
const (
	DefaultTopic    = "logs"
	DefaultFormat   = "json"
	DefaultHotTerm  = "param:q,Input"
	DefaultUVField  = formats.DefaultUVField
	DefaultLateness = 2 * time.Minute
	// DefaultGrace is how long after an hour's end batch waits before it
	// calls the hour complete by the clock (besides compaction having read
	// past the hour on every partition). Five minutes covers shippers that
	// buffer a minute or two and a Kafka that lags a little; later data is
	// not lost, it marks the hour dirty and the next run recomputes it.
	DefaultGrace = 5 * time.Minute
	// DefaultMergeBelow is the size under which a finished hour's files
	// are merged: a file this small costs more in per-file overhead
	// (footer reads, one more path in every query) than it saves.
	DefaultMergeBelow = 64 << 20
	// DefaultSpeedMargin is how far before the horizon speed documents
	// are kept after a recompute (see retention.go for why).
	DefaultSpeedMargin = time.Hour
)

// cfg holds every setting of a Batch layer, with its defaults in one place
// (defaultCfg) and checked in one place (validate).
type cfg struct {
	// What to read.
	topic  string
	format string // parser spec for records without a format header

	// How to build views.
	hotTerm  string
	uvField  string
	pane     time.Duration
	lateness time.Duration
	grace    time.Duration

	// Lake upkeep.
	mergeBelow int64

	// MongoDB upkeep: speed documents whose pane ends this long before the
	// horizon are deleted; negative keeps them.
	speedMargin time.Duration

	now      func() time.Time
	progress io.Writer
	logger   *slog.Logger
	writer   *replace.Writer
	// kafkaOpts are added to every Kafka client (TLS, SASL).
	kafkaOpts []kgo.Opt

	// afterFiles, a test hook, runs after compaction wrote its files and
	// before it saves the manifest; an error from it ends the run there,
	// as a crash would.
	afterFiles func() error
}

func defaultCfg() cfg {
	return cfg{
		topic:       DefaultTopic,
		format:      DefaultFormat,
		hotTerm:     DefaultHotTerm,
		uvField:     DefaultUVField,
		pane:        views.DefaultPane,
		lateness:    DefaultLateness,
		grace:       DefaultGrace,
		mergeBelow:  DefaultMergeBelow,
		speedMargin: DefaultSpeedMargin,
		now:         time.Now,
		logger:      slog.Default(),
	}
}

// validate checks every setting and names it with its value in the error.
func (c *cfg) validate() error {
	switch {
	case c.topic == "":
		return fmt.Errorf("topic is empty")
	case c.lateness < 0:
		return fmt.Errorf("lateness %s is negative", c.lateness)
	case c.grace < 0:
		return fmt.Errorf("grace %s is negative", c.grace)
	case c.mergeBelow < 0:
		return fmt.Errorf("merge-below %d bytes is negative (0 disables merging)", c.mergeBelow)
	case c.now == nil:
		return fmt.Errorf("now is nil")
	case c.logger == nil:
		return fmt.Errorf("logger is nil")
	}
	if _, err := views.NewGrid(c.pane); err != nil {
		return err
	}
	if _, err := formats.New(c.format); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	if _, err := formats.NewHotTerm(c.hotTerm); err != nil {
		return err
	}
	if _, err := formats.NewUVField(c.uvField); err != nil {
		return err
	}
	return nil
}

// Topic is the Kafka topic to compact (default "logs"); the lake keeps
// it as the directory <lake>/<topic>.
func Topic(t string) Opt { return optFunc(func(c *cfg) { c.topic = t }) }

// Format is the parser spec (formats.New) for records without a "format"
// header (default "json").
func Format(spec string) Opt { return optFunc(func(c *cfg) { c.format = spec }) }

// HotTerm is the rule extracting the hot view's search term
// (formats.NewHotTerm; default "param:q,Input"). It is applied at
// compaction and stored in the hot_term column.
func HotTerm(rule string) Opt { return optFunc(func(c *cfg) { c.hotTerm = rule }) }

// UVField is the visitor identity rule (formats.NewUVField; default
// "user,ip"): the first of these fields with a value is the visitor counted
// by UV. Plain access logs have no user: "ip". Speed and batch must use the
// same rule, or UV changes at the batch horizon. It is applied at
// compaction and stored in the uv column.
func UVField(rule string) Opt { return optFunc(func(c *cfg) { c.uvField = rule }) }

// Pane is the pane width of the batch views; it must divide an hour and
// equal speed's (default 1m).
func Pane(d time.Duration) Opt { return optFunc(func(c *cfg) { c.pane = d }) }

// Lateness is speed's allowed lateness (default 2m). Batch treats an hour
// as read on a partition only once the partition's newest event time is
// past the hour's end plus the lateness, the same margin speed gives late
// events.
func Lateness(d time.Duration) Opt { return optFunc(func(c *cfg) { c.lateness = d }) }

// Grace is how long after an hour's end (by the clock) batch waits before
// recomputing it (default 5m, see DefaultGrace).
func Grace(d time.Duration) Opt { return optFunc(func(c *cfg) { c.grace = d }) }

// MergeBelow is the size in bytes under which files of a finished hour are
// merged into one per partition (default 64 MiB; 0 disables merging).
func MergeBelow(bytes int64) Opt { return optFunc(func(c *cfg) { c.mergeBelow = bytes }) }

// SpeedMargin is how long before the batch horizon speed view documents
// are kept (default 1h): after a recompute, documents whose pane ended at
// or before horizon - margin are deleted, since serving answers those panes
// from batch and a refresh on embedded FerretDB scans every document. The
// margin covers speed still writing panes just before the horizon. A
// negative margin keeps every speed document. Checkpoints are never
// deleted.
func SpeedMargin(d time.Duration) Opt { return optFunc(func(c *cfg) { c.speedMargin = d }) }

// Now is the clock (default time.Now): tests pin it to make hour
// completeness deterministic.
func Now(f func() time.Time) Opt { return optFunc(func(c *cfg) { c.now = f }) }

// Progress receives a progress bar of records read (default none). The
// command passes stderr when it is a terminal.
func Progress(w io.Writer) Opt { return optFunc(func(c *cfg) { c.progress = w }) }

// Writer is the MongoDB writer of the batch views (default: a
// replace.Writer of its own). Layers sharing one embedded store share one
// Writer, which runs one command at a time (see package replace).
func Writer(w *replace.Writer) Opt { return optFunc(func(c *cfg) { c.writer = w }) }

// Logger receives the layer's logs (default slog.Default()).
func Logger(l *slog.Logger) Opt { return optFunc(func(c *cfg) { c.logger = l }) }

// withAfterFiles sets the hook run between a compaction's files and its
// manifest (tests: crash there).
func withAfterFiles(f func() error) Opt { return optFunc(func(c *cfg) { c.afterFiles = f }) }
