package ship

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/tail"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// Shipper ships log files to a Kafka topic; see the package doc.
type Shipper struct {
	cfg    cfg
	client *kgo.Client
	// rules are the ingest rules of the lines; their Format is the
	// "format" header of every record.
	rules ingest.Rules

	// loggedFailures limits per-record error logs: the count is in the
	// summary, the first few tell the operator why.
	loggedFailures atomic.Int64
}

// maxLoggedFailures is how many failed records are logged one by one.
const maxLoggedFailures = 5

// New returns a Shipper producing to brokers. The format spec and the
// multi-line pattern are checked here, so that a typo fails before any file
// is read.
func New(brokers []string, opts ...Opt) (*Shipper, error) {
	c := defaults()
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if len(brokers) == 0 {
		return nil, errors.New("no brokers")
	}
	// The rules are parsed as speed and batch parse them; the spec they
	// give travels in the format header.
	rules, err := ingest.Spec{Format: c.format, TimeLayouts: c.timeLayouts}.Parse()
	if err != nil {
		return nil, err
	}
	if c.multilineStart != "" {
		if _, err := newGrouper(c.multilineStart, c.multilineTimeout); err != nil {
			return nil, err
		}
	}
	client, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.DefaultProduceTopic(c.topic),
		// Idempotent (kgo's default, with acks=all): a retried batch is
		// written once, and records stay in order within a partition.
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(c.linger),
		kgo.MaxBufferedRecords(c.maxBufferedRecords),
		kgo.MaxBufferedBytes(c.maxBufferedBytes),
		// A capped line plus key and headers must fit in a batch, or kgo
		// fails the record client-side. Above Kafka's default limit the
		// broker still accepts it when it compresses below
		// message.max.bytes (snappy, kgo's default); see the package doc.
		kgo.ProducerBatchMaxBytes(int32(max(kafkaBatchDefault, c.maxLine+recordHeadroom))),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %v: %w", brokers, err)
	}
	return &Shipper{cfg: c, client: client, rules: rules}, nil
}

// Close releases the Kafka client.
func (s *Shipper) Close() { s.client.Close() }

// Run ships inputs (file paths; "-" is stdin) until they end or, with
// Follow, until ctx is done. Either way it then flushes what is buffered
// (up to the flush timeout), writes the positions and returns the summary.
// The error is non-nil when a record failed, a file could not be read or
// positions could not be written; the summary is valid anyway.
func (s *Shipper) Run(ctx context.Context, inputs ...string) (Summary, error) {
	start := time.Now()
	if len(inputs) == 0 {
		return Summary{}, errors.New("no input files (use - for stdin)")
	}
	var saved map[string]tail.Position
	if s.cfg.positionFile != "" {
		var err error
		if saved, err = tail.LoadPositions(s.cfg.positionFile); err != nil {
			return Summary{}, err
		}
	}

	// Records are produced with pctx, which outlives ctx: a Ctrl-C must not
	// cancel what is buffered, only stop the reading. It is cancelled once
	// the flush timeout has passed after ctx is done, so a dead broker
	// cannot hold the shipper forever.
	pctx, pcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer pcancel()
	go func() {
		select {
		case <-ctx.Done():
		case <-pctx.Done():
			return
		}
		select {
		case <-time.After(s.cfg.flushTimeout):
			pcancel()
		case <-pctx.Done():
		}
	}()

	var c counters
	sources := make([]*source, 0, len(inputs))
	seen := map[string]bool{}
	for _, in := range inputs {
		src, err := s.newSource(pctx, in, saved, &c)
		if err != nil {
			return Summary{}, err
		}
		id := src.posKey
		if in == "-" {
			id = in
		}
		if seen[id] {
			return Summary{}, fmt.Errorf("input %s given twice", in)
		}
		seen[id] = true
		sources = append(sources, src)
	}

	var bg sync.WaitGroup
	bgctx, bgstop := context.WithCancel(context.Background())
	if s.cfg.progress != nil {
		bg.Go(func() { runProgress(bgctx, s.cfg.progress, &c, start) })
	}
	var posErr error
	if s.cfg.positionFile != "" {
		bg.Go(func() { posErr = s.writePositions(bgctx, saved, sources) })
	}

	var wg sync.WaitGroup
	errs := make([]error, len(sources))
	for i, src := range sources {
		wg.Go(func() { errs[i] = src.run(ctx) })
	}
	wg.Wait()

	fctx, fcancel := context.WithTimeout(pctx, s.cfg.flushTimeout)
	if err := s.client.Flush(fctx); err != nil {
		errs = append(errs, fmt.Errorf("flush: records not acknowledged within %v: %w", s.cfg.flushTimeout, err))
		// Fail what kgo still holds, so its callbacks stop moving the
		// counters; records still unanswered are counted as Unacked.
		pcancel()
		settle, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.client.Flush(settle) // returns once the cancelled records failed
		cancel()
	}
	fcancel()
	bgstop()
	bg.Wait()
	if posErr != nil {
		errs = append(errs, posErr)
	}

	sum := c.summary()
	for _, src := range sources {
		sum.Rotations += src.follower.Rotations()
		sum.Truncations += src.follower.Truncations()
	}
	sum.Elapsed = time.Since(start)
	sum.Unacked = max(0, sum.Events-sum.Acked-sum.Failed)
	if sum.Failed > 0 || sum.Unacked > 0 {
		errs = append(errs, fmt.Errorf("%d of %d records not delivered to topic %s (%d failed, %d unacknowledged); the position file stays before them",
			sum.Failed+sum.Unacked, sum.Events, s.cfg.topic, sum.Failed, sum.Unacked))
	}
	return sum, errors.Join(errs...)
}

// newSource prepares the reading of one input.
func (s *Shipper) newSource(pctx context.Context, in string, saved map[string]tail.Position, c *counters) (*source, error) {
	src := &source{sh: s, name: in, ctx: pctx, c: c}
	topts := []tail.Opt{tail.MaxLine(s.cfg.maxLine), tail.Follow(s.cfg.follow), tail.PollInterval(s.cfg.poll)}
	if in == "-" {
		topts = append(topts, tail.FromReader(s.cfg.stdin), tail.Follow(false))
	} else {
		abs, err := filepath.Abs(in)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", in, err)
		}
		src.posKey = abs
		start := saved[abs]
		if start.Inode != 0 {
			topts = append(topts, tail.StartAt(start))
		}
		src.acks = tail.NewAcks(start)
	}
	f, err := tail.New(in, topts...)
	if err != nil {
		return nil, err
	}
	src.follower = f
	if s.cfg.key != "" {
		// The rules decode the first line as the consumers will; one
		// decoder per input, as parsers are not safe for concurrent use.
		src.dec = s.rules.NewDecoder()
	}
	if s.cfg.multilineStart != "" {
		if src.group, err = newGrouper(s.cfg.multilineStart, s.cfg.multilineTimeout); err != nil {
			return nil, err
		}
	}
	src.headers = []kgo.RecordHeader{
		{Key: ingest.FormatHeader, Value: []byte(s.rules.Format())},
		{Key: "source", Value: []byte(in)},
	}
	return src, nil
}

// writePositions rewrites the position file every position interval when
// acknowledgements moved a position, and once more when ctx is done (after
// the final flush).
func (s *Shipper) writePositions(ctx context.Context, saved map[string]tail.Position, sources []*source) error {
	files := make(map[string]tail.Position, len(saved)+len(sources))
	for k, v := range saved {
		files[k] = v // keep files this run does not read
	}
	update := func() bool {
		changed := false
		for _, src := range sources {
			if src.acks == nil {
				continue
			}
			p := src.acks.Done()
			if p.Inode == 0 && p.Offset == 0 {
				continue // nothing acknowledged yet and nothing saved
			}
			if files[src.posKey] != p {
				files[src.posKey] = p
				changed = true
			}
		}
		return changed
	}
	t := time.NewTicker(s.cfg.positionInterval)
	defer t.Stop()
	var lastErr error
	for {
		select {
		case <-ctx.Done():
			if update() || lastErr != nil {
				return tail.SavePositions(s.cfg.positionFile, files)
			}
			return nil
		case <-t.C:
			if update() {
				if lastErr = tail.SavePositions(s.cfg.positionFile, files); lastErr != nil {
					s.cfg.logger.Warn("ship: position file not written; retrying", "err", lastErr)
				}
			}
		}
	}
}

// failed counts a record that failed to produce.
func (s *Shipper) failed(c *counters, source string, err error) {
	c.failed.Add(1)
	if n := s.loggedFailures.Add(1); n <= maxLoggedFailures {
		s.cfg.logger.Error("ship: record failed to produce", "source", source, "topic", s.cfg.topic, "err", err)
		if n == maxLoggedFailures {
			s.cfg.logger.Error("ship: more failures are only counted in the summary")
		}
	}
}
