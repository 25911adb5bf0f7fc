package ship

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/tail"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// Defaults, printed by `loglambda ship --help`.
const (
	DefaultTopic  = settings.DefaultTopic
	DefaultFormat = ingest.DefaultFormat
	// DefaultLinger lets a batch fill for 20 ms: at log rates that is
	// hundreds of lines per request, and well under a speed-layer pane.
	DefaultLinger = 20 * time.Millisecond
	// DefaultMaxBufferedRecords bounds the records waiting for Kafka; when
	// it is reached, reading pauses until acknowledgements free room.
	DefaultMaxBufferedRecords = 10000
	// DefaultMaxBufferedBytes bounds their bytes too, so that a run of
	// long lines cannot take 10000 line caps of memory.
	DefaultMaxBufferedBytes = 64 << 20
	// DefaultPollInterval is how often followed files are checked.
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultPositionInterval is how often the position file is written
	// while acknowledgements arrive.
	DefaultPositionInterval = time.Second
	// DefaultFlushTimeout is how long a stopping shipper waits for Kafka to
	// acknowledge what it buffered.
	DefaultFlushTimeout = 30 * time.Second
	// recordHeadroom is room above the line cap for the key, headers and
	// record framing in a producer batch.
	recordHeadroom = 64 << 10
	// kafkaBatchDefault is Kafka's and kgo's default batch size limit.
	kafkaBatchDefault = 1000012
)

// Opt configures a Shipper.
type Opt func(*cfg)

// cfg holds every setting of a Shipper; the defaults are set in New.
type cfg struct {
	// What records look like.
	topic  string
	format string
	// autoCreateTopic lets the producer create a missing topic (gen).
	autoCreateTopic bool
	timeLayouts     []string
	key             string

	// How inputs are read.
	follow           bool
	positionFile     string
	multilineStart   string
	multilineTimeout time.Duration
	maxLine          int
	poll             time.Duration
	stdin            io.Reader

	// Producer.
	linger             time.Duration
	maxBufferedRecords int
	maxBufferedBytes   int
	flushTimeout       time.Duration
	positionInterval   time.Duration

	// Reporting.
	progress io.Writer
	logger   *slog.Logger

	// kafkaOpts are added to the producer (TLS, SASL).
	kafkaOpts []kgo.Opt
}

func defaults() cfg {
	return cfg{
		topic:              DefaultTopic,
		format:             DefaultFormat,
		maxLine:            tail.DefaultMaxLine,
		poll:               DefaultPollInterval,
		stdin:              os.Stdin,
		linger:             DefaultLinger,
		maxBufferedRecords: DefaultMaxBufferedRecords,
		maxBufferedBytes:   DefaultMaxBufferedBytes,
		flushTimeout:       DefaultFlushTimeout,
		positionInterval:   DefaultPositionInterval,
		logger:             slog.Default(),
	}
}

// Topic sets the Kafka topic (default "logs").
func Topic(t string) Opt { return func(c *cfg) { c.topic = t } }

// Format sets the format spec (formats.New) of the lines (default json). It
// travels with every record as the "format" header.
func Format(spec string) Opt { return func(c *cfg) { c.format = spec } }

// TimeLayouts makes the format read event times with these Go layouts
// first (--time-layout). They are written into the format spec the records
// carry (formats.NewWithOptions), so speed and batch read times the same way.
func TimeLayouts(layouts ...string) Opt {
	return func(c *cfg) { c.timeLayouts = append(c.timeLayouts, layouts...) }
}

// Key sets the Event field whose value is the record key (user, ip, host,
// instance, level, component, method, path, status, or a kept extra field).
// Records with the same key go to the same partition, in order. Empty (the
// default) means no key and no parsing.
func Key(field string) Opt { return func(c *cfg) { c.key = field } }

// Follow keeps following the files at their end, through rotation and
// truncation, until the context is done.
func Follow(on bool) Opt { return func(c *cfg) { c.follow = on } }

// PositionFile sets where positions are kept, so that a restart resumes
// after the last acknowledged line of every file. Empty: files are read
// from the start every time.
func PositionFile(path string) Opt { return func(c *cfg) { c.positionFile = path } }

// MultilineStart groups lines into records: a line matching this regexp
// starts a record, other lines continue the one before (stack traces).
func MultilineStart(re string) Opt { return func(c *cfg) { c.multilineStart = re } }

// MultilineTimeout sets how long a pending multi-line record waits for
// more lines before it is sent (default: formats' default).
func MultilineTimeout(d time.Duration) Opt { return func(c *cfg) { c.multilineTimeout = d } }

// MaxLine sets the line cap in bytes (default 1 MiB); longer lines are cut,
// shipped and counted.
func MaxLine(n int) Opt { return func(c *cfg) { c.maxLine = n } }

// PollInterval sets how often followed files are checked (default 250 ms).
func PollInterval(d time.Duration) Opt { return func(c *cfg) { c.poll = d } }

// Stdin sets what "-" reads (default os.Stdin).
func Stdin(r io.Reader) Opt { return func(c *cfg) { c.stdin = r } }

// Linger sets how long the producer waits to fill a batch (default 20 ms).
func Linger(d time.Duration) Opt { return func(c *cfg) { c.linger = d } }

// MaxBufferedRecords caps the records waiting for acknowledgement (default 10000).
func MaxBufferedRecords(n int) Opt { return func(c *cfg) { c.maxBufferedRecords = n } }

// MaxBufferedBytes caps their bytes (default 64 MiB).
func MaxBufferedBytes(n int) Opt { return func(c *cfg) { c.maxBufferedBytes = n } }

// FlushTimeout bounds the wait for acknowledgements when stopping (default 30 s).
func FlushTimeout(d time.Duration) Opt { return func(c *cfg) { c.flushTimeout = d } }

// PositionInterval sets how often the position file is rewritten while
// records are acknowledged (default 1 s); it is always written at the end.
func PositionInterval(d time.Duration) Opt { return func(c *cfg) { c.positionInterval = d } }

// Progress makes Run write a progress line to w at most 4 times a second
// (a terminal: the line is rewritten in place with '\r').
func Progress(w io.Writer) Opt { return func(c *cfg) { c.progress = w } }

// AutoCreateTopic lets the producer create the topic when the broker
// allows it (default off: ship fails on a missing topic; gen creates it).
func AutoCreateTopic(on bool) Opt { return func(c *cfg) { c.autoCreateTopic = on } }

// Logger sets the logger for produce errors and rotations (default slog.Default()).
func Logger(l *slog.Logger) Opt { return func(c *cfg) { c.logger = l } }

// validate checks every setting, naming it and the values.
func (c *cfg) validate() error {
	if c.topic == "" {
		return fmt.Errorf("topic is empty")
	}
	for _, d := range []struct {
		name     string
		v, least time.Duration
		most     time.Duration
	}{
		{"linger", c.linger, 0, time.Minute},
		{"poll interval", c.poll, time.Millisecond, time.Hour},
		{"flush timeout", c.flushTimeout, time.Millisecond, 24 * time.Hour},
		{"position interval", c.positionInterval, time.Millisecond, time.Hour},
	} {
		if d.v < d.least {
			return fmt.Errorf("%s %v is smaller than allowed %v", d.name, d.v, d.least)
		}
		if d.v > d.most {
			return fmt.Errorf("%s %v is larger than allowed %v", d.name, d.v, d.most)
		}
	}
	for _, n := range []struct {
		name           string
		v, least, most int
	}{
		{"max line", c.maxLine, 16, 256 << 20},
		{"max buffered records", c.maxBufferedRecords, 1, 1 << 30},
		{"max buffered bytes", c.maxBufferedBytes, c.maxLine + recordHeadroom, 1 << 40},
	} {
		if n.v < n.least {
			return fmt.Errorf("%s %d is smaller than allowed %d", n.name, n.v, n.least)
		}
		if n.v > n.most {
			return fmt.Errorf("%s %d is larger than allowed %d", n.name, n.v, n.most)
		}
	}
	if c.multilineTimeout < 0 {
		return fmt.Errorf("multiline timeout %v is negative", c.multilineTimeout)
	}
	return nil
}
