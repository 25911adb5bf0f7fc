package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/loglambda/loglambda/internal/ship"
	"github.com/loglambda/loglambda/internal/tail"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// shipMain runs ship with the process's terminal and standard streams.
func shipMain(ctx context.Context, args []string, _ io.Writer) error {
	return runShip(ctx, args, os.Stdin, os.Stderr, term.IsTerminal(int(os.Stderr.Fd())))
}

// runShip is the ship command with its streams passed in, so tests run it
// whole. The progress line is only drawn on a terminal; the summary always
// goes to stderr, stdout stays free for pipes.
func runShip(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer, tty bool) error {
	fs := newFlags("ship", "ship --brokers HOST:PORT,... [--topic T] [--format F] [--time-layout L] [--key FIELD] [--follow] [--position-file P] [--multiline-start RE] FILE...|-")
	fs.SetOutput(stderr)
	var kafka producerFlags
	kafka.register(fs)
	var format, jsonMap string
	registerFormat(fs, &format, &jsonMap)
	var timeLayouts stringList
	fs.Var(&timeLayouts, "time-layout", "Go time layout of the event times (reference time 2006-01-02 15:04:05), tried before the built-in ones; repeatable; travels in the format header")
	key := fs.String("key", "", "Event field whose value is the record key (user, ip, host, instance, level, path, status, or an extra field); same key, same partition, in order. Empty: no key, lines are not parsed")
	follow := fs.Bool("follow", false, "keep following the files like tail -F (rotation, truncation) until interrupted")
	positionFile := fs.String("position-file", "", "JSON file of per-file positions (inode, offset of the last acknowledged line); a restart resumes there")
	mlStart := fs.String("multiline-start", "", "regexp of a line that starts a record; other lines join the record before (stack traces), up to 500 lines")
	mlTimeout := fs.Duration("multiline-timeout", 0, "how long a multi-line record waits for more lines (0: the formats default)")
	maxLine := fs.Int("max-line", tail.DefaultMaxLine, "line cap in bytes: longer lines are cut to it, shipped and counted")
	linger := fs.Duration("linger", ship.DefaultLinger, "how long the producer waits to fill a batch")
	maxBuffered := fs.Int("max-buffered-records", ship.DefaultMaxBufferedRecords, "records waiting for Kafka at most; reading pauses when reached")
	poll := fs.Duration("poll", ship.DefaultPollInterval, "how often followed files are checked for data, rotation and truncation")
	flushTimeout := fs.Duration("flush-timeout", ship.DefaultFlushTimeout, "how long to wait for Kafka's acknowledgements when stopping")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	spec, err := ingest.WithJSONMap(format, jsonMap)
	if err != nil {
		return err
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		return fmt.Errorf("no input files (use - for stdin); see loglambda ship --help")
	}
	kopts, err := kafka.sec.opts()
	if err != nil {
		return err
	}
	// A refused credential is said now, naming its cause, not as a flush
	// timeout after the records were read.
	if err := kafka.sec.checkCredentials(ctx, kafka.brokerList()); err != nil {
		return err
	}
	opts := []ship.Opt{
		ship.Topic(kafka.topic), ship.Format(spec), ship.TimeLayouts(timeLayouts...), ship.Key(*key), ship.Follow(*follow),
		ship.PositionFile(*positionFile), ship.MultilineStart(*mlStart), ship.MultilineTimeout(*mlTimeout),
		ship.MaxLine(*maxLine), ship.Linger(*linger), ship.MaxBufferedRecords(*maxBuffered),
		ship.PollInterval(*poll), ship.FlushTimeout(*flushTimeout), ship.Stdin(stdin), ship.KafkaOpts(kopts...),
	}
	if tty {
		opts = append(opts, ship.Progress(stderr))
	}
	s, err := ship.New(kafka.brokerList(), opts...)
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	sum, err := s.Run(ctx, inputs...)
	if sum.Elapsed == 0 {
		sum.Elapsed = time.Since(start)
	}
	fmt.Fprintln(stderr, sum)
	return err
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ", ") }

// Set appends: each --time-layout adds a layout.
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
