package speed

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/ingest"
	"github.com/loglambda/loglambda/schemas/views"
)

// Speed is the speed layer: one member of a Kafka consumer group that keeps
// the panes of its partitions in memory and writes them to MongoDB.
type Speed struct {
	cfg     cfg
	db      *mongo.Database
	writer  *replace.Writer
	brokers []string
	grid    views.Grid
	metrics *metrics

	// dec decodes records into events, decs[w] for worker w (decs[0] is
	// dec): its parsers are not safe for concurrent use (see process).
	dec  *ingest.Decoder
	decs []*ingest.Decoder
	// evs are the chunks of events records are decoded into, reused, two
	// per worker (see process). Polling goroutine and its workers only.
	evs [][2][]event.Event

	running atomic.Bool
	// flushMu lets one flush run at a time (see flush); hz is the batch
	// horizon as the flushes last read it, under flushMu.
	flushMu sync.Mutex
	hz      horizonState
	// stopping is set when Run is killed (a test hook): the revoke callback
	// then drops state without writing, as a dead process would.
	stopping atomic.Bool
	// hinting is set while an offset hint commit is in flight (at most
	// one: see hint); hints counts those goroutines, waited for by Run.
	hinting atomic.Bool
	hints   sync.WaitGroup

	// mu guards the partitions and the counters. process applies records
	// holding it shared, each partition by one goroutine at a time (see
	// process); everything else holds it exclusively: the flush's cut,
	// the group callbacks adding and removing partitions, Stats.
	mu      sync.RWMutex
	parts   map[int32]*partition
	total   tally
	flushes int64
	bl      backlogState
}

// flushTimeout bounds the flushes that stop something (the exit flush,
// the flush of revoked partitions): what they do not write in time is
// read again by the partition's next owner.
const flushTimeout = 30 * time.Second

// flushBudget bounds a flush while running: past it, the flush starts no
// new command (the one in flight finishes, within its own deadline) and
// leaves the rest dirty, so the next flush, which starts at once, goes on
// from there. A large backlog is then written over several flushes, and a
// revoke (which waits for the flush in flight) or the exit waits at most
// this plus one command. A soft limit, not a cancelled context: a command
// cut short still runs in the store, and on the embedded store abandoned
// commands pile up and slow everything down.
const flushBudget = 30 * time.Second

// hintTimeout bounds an offset hint commit. The commit waits while the
// group rebalances (franz-go holds commits during join and sync), which
// lasts until a dead member's session expires; a hint is only for lag
// tools, so it gives up and the next flush sends a newer one.
const hintTimeout = 5 * time.Second

// errAborted is returned by Run when the abort hook fired.
var errAborted = errors.New("speed: aborted")

// New returns the speed layer reading brokers and writing db. Nothing
// connects until Run.
func New(db *mongo.Database, brokers []string, opts ...Opt) (*Speed, error) {
	c := defaultCfg()
	ck, err := settings.Configure(&c, opts)
	if err != nil {
		return nil, fmt.Errorf("speed: %w", err)
	}
	c.clusters = ck.Clusters
	if db == nil {
		return nil, errors.New("speed: no MongoDB database")
	}
	if len(brokers) == 0 {
		return nil, errors.New("speed: no Kafka brokers")
	}
	m := newMetrics(c.Topic, c.registry)
	decs := make([]*ingest.Decoder, max(1, min(runtime.GOMAXPROCS(0), maxDecoders)))
	for i := range decs {
		decs[i] = ck.Rules.NewDecoder()
	}
	return &Speed{
		cfg: c, db: db, writer: ck.Writer, brokers: brokers, grid: ck.Grid, metrics: m, dec: decs[0], decs: decs,
		evs:   make([][2][]event.Event, len(decs)),
		parts: map[int32]*partition{},
	}, nil
}

// stopError carries an error that stops Run at once, as a crash would:
// no exit flush.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }
func (e stopError) Unwrap() error { return e.err }

// maxHeldPanes bounds the panes a partition holds while one of them is
// dirty before Run stops polling. A partition's checkpoint moves only once
// all its dirty panes are written; reading a day's backlog without a bound
// (up --demo --demo-history 24h) held every pane of it in memory (1 GB and
// growing) while the flushes, each larger than the last, ran past their
// budget and no checkpoint moved for minutes. Four hours of one-minute
// panes: a live partition never comes near it.
const maxHeldPanes = 256

// backpressurePause is how long Run waits, polling nothing, for a flush
// while a partition is full (and the least time between two flushes then).
const backpressurePause = 50 * time.Millisecond

// full reports whether a partition holds more than maxHeld panes with one
// of them dirty: then Run flushes before it reads on.
func (s *Speed) full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.parts {
		if len(p.panes) <= s.cfg.maxHeld {
			continue
		}
		for _, ps := range p.panes {
			if ps.dirty {
				return true
			}
		}
	}
	return false
}

// Run consumes until ctx is done, flushing every flush interval, then
// flushes once more and leaves the group. Run may be called once.
func (s *Speed) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("speed: Run called twice")
	}
	pollCtx, cancelPoll := context.WithCancel(ctx)
	defer cancelPoll()
	if s.cfg.abort != nil {
		go func() {
			select {
			case <-s.cfg.abort:
				cancelPoll()
			case <-pollCtx.Done():
			}
		}()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(s.brokers...),
		kgo.ConsumerGroup(s.cfg.group),
		// Cooperative: a member joining or leaving moves only the
		// partitions that must move; the others keep consuming and
		// flushing through the rebalance.
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.SessionTimeout(s.cfg.session),
		kgo.ConsumeTopics(s.cfg.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AdjustFetchOffsetsFn(s.assigned),
		kgo.OnPartitionsRevoked(s.revoked),
		kgo.OnPartitionsLost(s.lost),
	}
	if s.cfg.instanceID != "" {
		opts = append(opts, kgo.InstanceID(s.cfg.instanceID))
	}
	opts = append(opts, s.cfg.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("speed: kafka client: %w", err)
	}
	// At most one flush is in flight, written by its own goroutine so
	// that polling goes on while MongoDB writes; flushing is its result.
	var flushing chan error
	wait := func() error {
		if flushing == nil {
			return nil
		}
		err := <-flushing
		flushing = nil
		return err
	}
	kill := func(err error) error {
		_ = wait() // a dead process would not finish it; but no write may outlive Run
		s.stopping.Store(true)
		cl.AllowRebalance()
		cl.Close()
		s.hints.Wait()
		return err
	}
	// settle handles a finished flush: a stopError (test crash) kills Run,
	// other errors are logged and the state is written again next time.
	settle := func(err error) error {
		var se stopError
		if errors.As(err, &se) {
			return kill(se.err)
		}
		return nil // reported by the flush (reportFlush)
	}
	s.cfg.Logger.Info("speed layer started", "topic", s.cfg.Topic, "group", s.cfg.group, "pane", s.cfg.Pane, "lateness", s.cfg.Lateness)
	nextFlush := time.Now().Add(s.cfg.flushInterval)
	var lastFlush time.Time
	for {
		if s.aborted() {
			return kill(errAborted)
		}
		if flushing != nil {
			select {
			case err := <-flushing:
				flushing = nil
				if err := settle(err); err != nil {
					return err
				}
			default:
			}
		}
		if ctx.Err() != nil {
			break
		}
		// Backpressure: a partition holding more panes than maxHeld, one
		// of them dirty, is flushed at once (final panes leave memory
		// once written), and nothing is polled until that flush lands.
		full := s.full()
		if flushing == nil && (!time.Now().Before(nextFlush) ||
			full && !time.Now().Before(lastFlush.Add(backpressurePause))) {
			lastFlush = time.Now()
			ch := make(chan error, 1)
			flushing = ch
			go func() {
				// Not cut short by ctx: stopping waits for it, then
				// flushes what is left. Each command has its own
				// deadline, the flush flushBudget.
				ch <- s.flushAndHint(context.WithoutCancel(ctx), cl)
			}()
			nextFlush = time.Now().Add(s.cfg.flushInterval)
		}
		cl.AllowRebalance()
		if full {
			pause := time.NewTimer(backpressurePause)
			select {
			case err := <-flushing: // nil when no flush could start yet: blocks
				flushing = nil
				if err := settle(err); err != nil {
					pause.Stop()
					return err
				}
			case <-pause.C:
			case <-pollCtx.Done():
			}
			pause.Stop()
			continue
		}
		deadline := nextFlush
		if flushing != nil {
			// Look at the flush's result soon after it lands.
			deadline = time.Now().Add(min(s.cfg.flushInterval, 50*time.Millisecond))
		}
		pc, cancel := context.WithDeadline(pollCtx, deadline)
		fetches := cl.PollFetches(pc)
		cancel()
		if fetches.IsClientClosed() {
			_ = wait()
			return errors.New("speed: kafka client closed")
		}
		s.process(fetches)
	}
	if s.aborted() {
		return kill(errAborted)
	}
	if err := settle(wait()); err != nil {
		return err
	}
	// The exit flush must outlive ctx, which is what asked us to stop.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	err = s.flushAndHint(fctx, cl)
	var se stopError
	if errors.As(err, &se) {
		return kill(se.err)
	}
	cl.AllowRebalance()
	cl.Close() // leaves the group; revoked flushes again (nothing dirty)
	s.hints.Wait()
	s.cfg.Logger.Info("speed layer stopped", "flushes", s.Stats().Flushes)
	if err != nil {
		return fmt.Errorf("speed: exit flush: %w", err)
	}
	return nil
}

func (s *Speed) aborted() bool {
	if s.cfg.abort == nil {
		return false
	}
	select {
	case <-s.cfg.abort:
		return true
	default:
		return false
	}
}

// flushAndHint flushes every partition and, when that worked, commits the
// checkpointed offsets to Kafka (hint): only a hint for lag tools, MongoDB
// decides where a partition resumes.
func (s *Speed) flushAndHint(ctx context.Context, cl *kgo.Client) error {
	if err := s.flush(ctx, nil); err != nil {
		return err
	}
	s.hint(cl, s.hintOffsets())
	return nil
}

// hint commits offs off the flush path, in its own goroutine with its own
// deadline (hintTimeout), at most one at a time: a hint that finds one in
// flight is dropped, the next flush sends a newer one. Waiting for it in
// the flush made every member's writes stop while the group rebalanced
// after one member died (franz-go holds commits during join and sync, until
// the dead member's session expires).
func (s *Speed) hint(cl *kgo.Client, offs map[string]map[int32]kgo.EpochOffset) {
	if offs == nil || !s.hinting.CompareAndSwap(false, true) {
		return
	}
	s.hints.Add(1)
	go func() {
		defer s.hints.Done()
		defer s.hinting.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), hintTimeout)
		defer cancel()
		cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				s.cfg.Logger.Debug("speed: offset hint commit failed", "err", err)
			}
		})
	}()
}

func (s *Speed) hintOffsets(only ...int32) map[string]map[int32]kgo.EpochOffset {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[int32]kgo.EpochOffset{}
	for _, p := range s.selectParts(only) {
		if p.checkpointed >= 0 {
			m[p.id] = kgo.EpochOffset{Epoch: -1, Offset: p.checkpointed + 1}
		}
	}
	if len(m) == 0 {
		return nil
	}
	return map[string]map[int32]kgo.EpochOffset{s.cfg.Topic: m}
}
