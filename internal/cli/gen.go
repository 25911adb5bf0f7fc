package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/ship"
	"github.com/loglambda/loglambda/schemas/formats"
	"github.com/loglambda/loglambda/schemas/ingest"
)

func runGen(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("gen", "gen [flags]")
	var traffic trafficFlags
	// No late events by default: speed drops events beyond the lateness
	// (batch counts them), so a user comparing the API with counts of gen's
	// own output would see the difference without having asked for it.
	// up --demo turns them on to show late handling.
	traffic.register(fs, gen.DefaultRate, 0)
	count := fs.Int64("count", 0, "stop after this many events (0: unbounded)")
	start := fs.String("start", "", "event time of the first event, RFC 3339 or relative like -3h; empty: now, live. In the past: backfill as fast as possible, then continue live")
	var kafka producerFlags
	kafka.register(fs)
	toStdout := fs.Bool("stdout", false, "write JSON lines to stdout instead of Kafka")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	now := time.Now()
	first, err := parseStart(*start, now)
	if err != nil {
		return fmt.Errorf("--start: %w", err)
	}
	g, err := gen.New(gen.Seed(traffic.seed), gen.Rate(traffic.rate), gen.Start(first), gen.Count(*count),
		gen.OutOfOrder(traffic.outOfOrder), gen.Late(traffic.late))
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	var sink genSink
	if *toStdout {
		sink = &lineSink{w: bufio.NewWriterSize(stdout, 1<<16)}
	} else {
		kopts, err := kafka.sec.opts()
		if err != nil {
			return err
		}
		ks, err := newKafkaSink(ctx, kafka.brokerList(), kafka.topic, kopts...)
		if err != nil {
			return err
		}
		sink = ks
	}
	var progress io.Writer
	if isTerminal(os.Stderr) {
		progress = os.Stderr
	}
	st, err := feed(ctx, g, sink, feedOpts{progress: progress})
	fmt.Fprintf(os.Stderr, "gen: %s\n", st)
	return err
}

// parseStart reads --start: empty is now, "-3h" is relative to now, anything
// else a timestamp.
func parseStart(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return now.UTC(), nil
	case s[0] == '-' || s[0] == '+':
		d, err := time.ParseDuration(s)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(d).UTC(), nil
	}
	return formats.ParseTime(s)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// isTerminal reports whether f is a character device, so progress lines are
// only drawn for a person watching.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// genSink receives generated records.
type genSink interface {
	// put hands one record over; the sink may keep rec.Line.
	put(ctx context.Context, rec gen.Record) error
	// flush delivers everything handed over so far.
	flush(ctx context.Context) error
	// close releases the sink after a final flush.
	close()
}

// genStats summarises a feed.
type genStats struct {
	Events  int64
	Bytes   int64
	Elapsed time.Duration
	// Last is the in-order event time reached: the next event would be
	// stamped from here on.
	Last time.Time
}

func (s genStats) String() string {
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Events) / s.Elapsed.Seconds()
	}
	return fmt.Sprintf("%d events, %.1f MB in %s (%.0f events/s)", s.Events, float64(s.Bytes)/1e6,
		s.Elapsed.Round(time.Millisecond), rate)
}

// feedTick is how often a live feed hands over the events that fell due.
const feedTick = 100 * time.Millisecond

// feedOpts are the optional parts of a feed.
type feedOpts struct {
	// clock is the wall clock (time.Now when nil).
	clock func() time.Time
	// progress, when set, gets a status line redrawn about once a second.
	progress io.Writer
	// caughtUp, when set, is called once the backfill is done: every event
	// due by now was handed over and flushed.
	caughtUp func(genStats)
	// flushed, when set, is called after every successful flush with the
	// position reached (up --demo keeps it in a marker file).
	flushed func(genStats)
}

// feed moves records from g into sink until g is done or ctx is cancelled.
// Events whose time is already past (a backfill) go as fast as the sink
// takes them; after that the feed is paced by the clock: every tick it sends
// the events that fell due. The sink is flushed (with a grace period of
// its own when ctx is cancelled) and closed before feed returns.
func feed(ctx context.Context, g *gen.Generator, sink genSink, fo feedOpts) (genStats, error) {
	clock, progress := fo.clock, fo.progress
	if clock == nil {
		clock = time.Now
	}
	began := clock()
	caughtUp := false
	var st genStats
	lastDraw := began
	draw := func(now time.Time) {
		if progress == nil || now.Sub(lastDraw) < time.Second {
			return
		}
		lastDraw = now
		fmt.Fprintf(progress, "\rgen: %d events, event time %s, %.1f MB   ", st.Events,
			g.NextTime().Format(time.RFC3339), float64(st.Bytes)/1e6)
	}
	defer sink.close()
	ticker := time.NewTicker(feedTick)
	defer ticker.Stop()
	var err error
loop:
	for !g.Done() {
		now := clock()
		// Send what is due, re-reading the clock every few thousand events
		// so a long backfill neither overshoots nor ignores cancellation.
		for i := 0; !g.Done() && !g.NextTime().After(now); i++ {
			rec := g.Next()
			if err = sink.put(ctx, rec); err != nil {
				break loop
			}
			st.Events++
			st.Bytes += int64(len(rec.Line))
			if i%4096 == 4095 {
				if ctx.Err() != nil {
					break loop
				}
				now = clock()
				draw(now)
			}
		}
		draw(now)
		if g.Done() {
			break
		}
		if err = sink.flush(ctx); err != nil {
			break
		}
		st.Elapsed, st.Last = clock().Sub(began), g.NextTime()
		if fo.flushed != nil {
			fo.flushed(st)
		}
		if !caughtUp && fo.caughtUp != nil {
			fo.caughtUp(st)
		}
		caughtUp = true
		select {
		case <-ctx.Done():
			break loop
		case <-ticker.C:
		}
	}
	if progress != nil {
		fmt.Fprintln(progress)
	}
	// Deliver what was handed over even when cancelled: a Ctrl-C should not
	// lose the events already counted.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	ferr := sink.flush(fctx)
	if err == nil {
		err = ferr
	}
	st.Elapsed, st.Last = clock().Sub(began), g.NextTime()
	if ferr == nil && fo.flushed != nil {
		fo.flushed(st)
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil // stopped by the user
	}
	return st, err
}

// lineSink writes JSON lines.
type lineSink struct {
	w *bufio.Writer
}

func (s *lineSink) put(_ context.Context, rec gen.Record) error {
	s.w.Write(rec.Line)
	return s.w.WriteByte('\n')
}

func (s *lineSink) flush(context.Context) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write lines: %w", err)
	}
	return nil
}

func (s *lineSink) close() {}

// kafkaSink produces records asynchronously; a promise counts failures and
// keeps the first, which the next put or flush returns.
type kafkaSink struct {
	cl    *kgo.Client
	topic string
	// prodCtx outlives the caller's context by a grace period: records
	// already handed over are still delivered after a Ctrl-C, yet a dead
	// broker cannot block the shutdown forever.
	prodCtx context.Context
	cancel  context.CancelFunc
	stop    func() bool

	failed   atomic.Int64
	mu       sync.Mutex
	firstErr error
}

// produceGrace is how long records keep being delivered after cancellation.
const produceGrace = 30 * time.Second

// genFormatHeader tells consumers how to parse the records.
var genFormatHeader = []kgo.RecordHeader{{Key: ingest.FormatHeader, Value: []byte("json")}}

func newKafkaSink(ctx context.Context, brokers []string, topic string, extra ...kgo.Opt) (*kafkaSink, error) {
	// The same producer as ship's; a short linger batches a live trickle
	// without delaying it noticeably; a backfill fills batches anyway.
	cl, err := ship.NewProducer(brokers, ship.Topic(topic), ship.Linger(5*time.Millisecond), ship.AutoCreateTopic(true), ship.KafkaOpts(extra...))
	if err != nil {
		return nil, fmt.Errorf("kafka producer for %s: %w", strings.Join(brokers, ","), err)
	}
	s := &kafkaSink{cl: cl, topic: topic}
	s.prodCtx, s.cancel = context.WithCancel(context.Background())
	s.stop = context.AfterFunc(ctx, func() { time.AfterFunc(produceGrace, s.cancel) })
	return s, nil
}

func (s *kafkaSink) put(_ context.Context, rec gen.Record) error {
	if err := s.err(); err != nil {
		return err
	}
	s.cl.Produce(s.prodCtx, &kgo.Record{Key: rec.Key, Value: rec.Line, Headers: genFormatHeader}, s.promise)
	return nil
}

func (s *kafkaSink) promise(_ *kgo.Record, err error) {
	if err == nil {
		return
	}
	s.failed.Add(1)
	s.mu.Lock()
	if s.firstErr == nil {
		s.firstErr = err
	}
	s.mu.Unlock()
}

func (s *kafkaSink) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstErr != nil {
		return fmt.Errorf("produce to %s: %d records failed, first: %w", s.topic, s.failed.Load(), s.firstErr)
	}
	return nil
}

func (s *kafkaSink) flush(ctx context.Context) error {
	if err := s.cl.Flush(ctx); err != nil {
		return fmt.Errorf("produce to %s: flush: %w", s.topic, err)
	}
	return s.err()
}

func (s *kafkaSink) close() {
	s.stop()
	s.cancel()
	s.cl.Close()
}
