package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/batch"
	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/serving"
	"github.com/loglambda/loglambda/serving/alerts"
	"github.com/loglambda/loglambda/serving/lakesql"
	"github.com/loglambda/loglambda/speed"
)

// upConfig is everything `up` starts, as given by its flags.
type upConfig struct {
	data        string
	kafkaListen string
	// kafkaRetention and kafkaRetentionBytes bound the embedded broker's
	// log (embedded.KafkaConfig).
	kafkaRetention      time.Duration
	kafkaRetentionBytes int64
	// memoryMiB is the Go runtime's soft memory limit; 0: none.
	memoryMiB int64
	// brokers, when set, is an external Kafka used instead of the embedded
	// broker, reached with kafkaSec (TLS, SASL).
	brokers  string
	kafkaSec kafkaSecFlags
	// apiSec is TLS and tokens on the HTTP and gRPC API, as serve has them.
	apiSec      apiSecFlags
	mongoListen string
	httpAddr    string
	grpcAddr    string // empty: no gRPC
	partitions  int
	mongoDB     string
	viewFlags
	batchEvery time.Duration
	batchFirst time.Duration

	demo        bool
	demoHistory time.Duration
	trafficFlags

	alerts alertFlags
	// lake is --lake and its S3 flags; an empty --lake is <data>/lake.
	lake lakeFlags

	// member is the speed layer's group membership (--instance-id,
	// --session-timeout).
	member memberFlags

	// batchNow, when set, is batch's clock (tests decide which hours are
	// complete); not a flag.
	batchNow func() time.Time
}

// Defaults of up that differ from the other commands'.
const (
	// upDemoRate keeps the default 3 h of demo history near a million
	// events: a backfill of well under a minute on a laptop.
	upDemoRate = 100.0
	// upBatchFirst is the delay before the first batch run, counted from
	// the end of the demo backfill: the first views come from speed, then
	// batch takes over the complete hours.
	upBatchFirst = 10 * time.Second
	// upMemoryMiB is up's default soft memory limit: what the stack holds
	// (speed's open panes, serving's cache, compaction's open files) stays
	// well under it, and without a limit the collector lets the heap grow
	// to twice that before it runs.
	upMemoryMiB = 768
)

func runUp(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("up", "up [--demo] [--data DIR] [flags]")
	var c upConfig
	fs.StringVar(&c.data, "data", defaultDataDir, "directory for everything kept: kafka/, mongo/, lake/ and the demo position")
	fs.StringVar(&c.kafkaListen, "kafka-listen", "127.0.0.1:9092", "address of the embedded Kafka broker")
	fs.DurationVar(&c.kafkaRetention, "kafka-retention", embedded.DefaultRetention, "how long the embedded broker keeps a record after it was produced (its log is on disk under DATA/kafka; records batch has not compacted by then are counted as lost); negative: forever")
	registerMemoryLimit(fs, &c.memoryMiB, upMemoryMiB)
	fs.Int64Var(&c.kafkaRetentionBytes, "kafka-retention-bytes", 0, "also bound each partition's log of the embedded broker to this many bytes, oldest records dropped first; 0: no bound")
	fs.StringVar(&c.brokers, "brokers", "", "an external Kafka's bootstrap brokers, comma separated, used instead of the embedded broker (with --kafka-tls*, --kafka-sasl-*; the topic must exist or be auto-created); empty: the embedded broker on --kafka-listen")
	c.kafkaSec.register(fs)
	c.apiSec.register(fs)
	fs.StringVar(&c.mongoListen, "mongo-listen", "127.0.0.1:27017", "address of the embedded MongoDB wire-protocol server")
	registerAPI(fs, &c.httpAddr, &c.grpcAddr)
	fs.IntVar(&c.partitions, "partitions", 4, "partitions of the topic when it is created")
	registerMongoDB(fs, &c.mongoDB)
	c.viewFlags.register(fs)
	fs.DurationVar(&c.batchEvery, "batch-every", 5*time.Minute, "interval between batch runs (compact + recompute)")
	fs.DurationVar(&c.batchFirst, "batch-first", upBatchFirst, "delay before the first batch run (after the demo backfill)")
	fs.BoolVar(&c.demo, "demo", false, "feed generated traffic: first --demo-history of history, then live")
	fs.DurationVar(&c.demoHistory, "demo-history", 3*time.Hour, "history the demo backfills on its first start")
	c.trafficFlags.register(fs, upDemoRate, gen.DefaultLate)
	c.alerts.register(fs)
	c.member.register(fs)
	c.lake.register(fs, "", "; empty: <data>/lake")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	applyMemoryLimit(c.memoryMiB)
	st, err := openStack(c)
	if err != nil {
		return err
	}
	defer st.close()
	st.printBanner(stdout)
	return st.run(ctx)
}

func (c *upConfig) validate() error {
	switch {
	case c.partitions < 1 || c.partitions > 1000:
		return fmt.Errorf("--partitions %d must be within 1..1000", c.partitions)
	case c.batchEvery < time.Second:
		return fmt.Errorf("--batch-every %s is shorter than 1s", c.batchEvery)
	case c.batchFirst < 0:
		return fmt.Errorf("--batch-first %s is negative", c.batchFirst)
	case c.demoHistory < 0:
		return fmt.Errorf("--demo-history %s is negative", c.demoHistory)
	case c.kafkaRetention == 0:
		return errors.New("--kafka-retention is 0 (negative keeps records forever)")
	case checkMemoryLimit(c.memoryMiB) != nil:
		return checkMemoryLimit(c.memoryMiB)
	case c.kafkaRetentionBytes < 0:
		return fmt.Errorf("--kafka-retention-bytes %d is negative", c.kafkaRetentionBytes)
	}
	if c.alerts.every == 0 {
		c.alerts.every = alerts.DefaultEvery // a config built in code
	}
	if err := c.alerts.validate(); err != nil {
		return err
	}
	if _, err := c.kafkaSec.opts(); err != nil {
		return err
	}
	if c.mongoDB == "" {
		return errors.New("--mongo-db is empty")
	}
	// The view settings are checked, and the ingest rules parsed, as for
	// the layer commands.
	return c.viewFlags.validate()
}

// stack is the one-process deployment: embedded servers and the three
// layers wired to them.
type stack struct {
	cfg      upConfig
	kafka    *embedded.Kafka
	mongoSrv *embedded.Mongo
	client   *mongo.Client
	db       *mongo.Database
	speed    *speed.Speed
	batch    *batch.Batch
	serving  *serving.Server
	httpAddr string   // resolved: never port 0
	grpcAddr string   // resolved: never port 0; empty: no gRPC
	brokers  []string // the embedded broker's address, or --brokers
	kopts    []kgo.Opt
	lake     string
	log      *slog.Logger
	// credsProblem is why the brokers refuse the Kafka credentials, nil
	// when they accept them (or were not asked yet): /v1/status shows it
	// as speed's and batch's "blocked", and /readyz fails.
	credsProblem atomic.Pointer[string]
	// release frees the speed layer's instance slot (memberFlags).
	release func()
	// admin reads the broker's end offsets for /v1/status's lag.
	admin *kgo.Client
}

// openStack starts the embedded servers and builds the layers; run starts
// them. On error everything started so far is closed again.
func openStack(c upConfig) (_ *stack, err error) {
	s := &stack{cfg: c, lake: c.lake.location, log: slog.Default()}
	if s.lake == "" {
		s.lake = filepath.Join(c.data, "lake")
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if err := os.MkdirAll(c.data, 0o755); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", c.data, err)
	}
	if s.httpAddr, err = resolveListen(c.httpAddr); err != nil {
		return nil, fmt.Errorf("--http: %w", err)
	}
	if c.grpcAddr != "" {
		if s.grpcAddr, err = resolveListen(c.grpcAddr); err != nil {
			return nil, fmt.Errorf("--grpc: %w", err)
		}
	}
	if s.kopts, err = c.kafkaSec.opts(); err != nil {
		return nil, err
	}
	if c.brokers != "" {
		s.brokers = splitList(c.brokers)
	} else {
		s.kafka, err = embedded.StartKafka(embedded.KafkaConfig{Listen: c.kafkaListen,
			DataDir: filepath.Join(c.data, "kafka"), Topic: c.topic, Partitions: int32(c.partitions),
			Retention: c.kafkaRetention, RetentionBytes: c.kafkaRetentionBytes})
		if err != nil {
			return nil, err
		}
		s.brokers = s.kafka.Addrs()
	}
	s.mongoSrv, err = embedded.StartMongo(embedded.MongoConfig{Listen: c.mongoListen, DataDir: filepath.Join(c.data, "mongo"),
		LazySync: true})
	if err != nil {
		return nil, err
	}
	s.client, err = mongo.Connect(options.Client().ApplyURI(s.mongoSrv.URI()))
	if err != nil {
		return nil, fmt.Errorf("connect to embedded mongodb %s: %w", s.mongoSrv.URI(), err)
	}
	s.db = s.client.Database(c.mongoDB)
	gen, err := c.ensureContract(context.Background(), s.db, "up", nil)
	if err != nil {
		return nil, err
	}
	brokers := s.brokers
	// One writer for both layers: it runs one command at a time, which
	// keeps the embedded store's connection pool from running dry.
	writer, err := replace.New()
	if err != nil {
		return nil, err
	}
	layerOpts := func(name string) []settings.Opt {
		return append(c.layerOpts(s.log.With("layer", name)), settings.Writer(writer), settings.KafkaOpts(s.kopts...), settings.Generation(gen))
	}
	mopts, _, release, err := c.member.resolve(speed.DefaultGroup)
	if err != nil {
		return nil, err
	}
	s.release = release
	if s.speed, err = speed.New(s.db, brokers, append(layerOpts("speed"), mopts...)...); err != nil {
		return nil, err
	}
	bopts := layerOpts("batch")
	if c.batchNow != nil {
		bopts = append(bopts, batch.Now(c.batchNow))
	}
	// A lake in S3 is opened once; batch writes it, serving reads it,
	// each through the cache under <data>/lake-cache unless --lake-cache.
	var sqlOpts []lakesql.Opt
	store, cache, err := c.lake.open(context.Background(), filepath.Join(c.data, "lake-cache"))
	if err != nil {
		return nil, err
	}
	if store != nil {
		bopts = append(bopts, batch.LakeStore(store, cache))
		sqlOpts = append(sqlOpts, lakesql.Remote(store, cache))
	}
	s.batch, err = batch.New(s.db, brokers, s.lake, bopts...)
	if err != nil {
		return nil, err
	}
	secOpts, err := c.apiSec.options()
	if err != nil {
		return nil, err
	}
	if c.demo && c.alerts.rules == "" {
		if s.cfg.alerts.rules, err = demoRulesFile(c.data); err != nil {
			return nil, err
		}
	}
	secOpts = append(secOpts, s.cfg.alerts.servingOpts(s.httpAddr)...)
	if s.admin, err = kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, s.kopts...)...); err != nil {
		return nil, fmt.Errorf("kafka client for the status: %w", err)
	}
	secOpts = append(secOpts, serving.BrokerEndOffsets(s.admin, c.topic))
	// Serving's held pane encodings go to unlinked files under
	// DATA/serving, not the heap: a week of panes is 1 to 1.5 GB of them.
	spill := filepath.Join(c.data, "serving")
	if err := os.MkdirAll(spill, 0o755); err != nil {
		return nil, fmt.Errorf("serving spill directory: %w", err)
	}
	secOpts = append(secOpts, serving.SpillDir(spill))
	s.serving, err = serving.New(s.db, append(secOpts, serving.Topic(c.topic), serving.Pane(c.pane), serving.Backlogs(s.backlogs),
		serving.Lake(s.lake), serving.SQL(sqlOpts...), serving.GRPC(s.grpcAddr), serving.Logger(s.log.With("layer", "serving")))...)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// resolveListen turns a port-0 address into a concrete free one, so the
// address printed and the one served are the same.
func resolveListen(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return addr, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// close stops the servers: the MongoDB client first, then MongoDB, then
// Kafka, which the layers need until their last flush.
func (s *stack) close() {
	if s.client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.client.Disconnect(ctx)
		cancel()
	}
	if s.mongoSrv != nil {
		s.mongoSrv.Close()
	}
	if s.kafka != nil {
		s.kafka.Close()
	}
	if s.release != nil {
		s.release()
	}
	if s.admin != nil {
		s.admin.Close()
	}
}

// run runs the layers (and the demo feed) until ctx is done or one of them
// fails; then it stops the others and waits for them. A failed batch run
// is logged and retried at the next interval: batch is bounded and safe to
// rerun, and the speed layer keeps the views current meanwhile.
func (s *stack) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	goRun := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f(ctx)
			if err != nil && ctx.Err() == nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", name, err)
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	// The first batch run waits for the demo backfill: compacting while
	// a million events are being produced would only read a moving target.
	ready := make(chan struct{})
	var readyOnce sync.Once
	markReady := func() { readyOnce.Do(func() { close(ready) }) }
	// Speed and batch start once the brokers accept the credentials; until
	// then the refusal is logged once and shown in /v1/status.
	creds := make(chan struct{})
	goRun("credentials", func(ctx context.Context) error { s.awaitCredentials(ctx, creds); return nil })
	goRun("speed", func(ctx context.Context) error {
		select {
		case <-creds:
		case <-ctx.Done():
			return nil
		}
		return s.speed.Run(ctx)
	})
	goRun("serving", func(ctx context.Context) error { return s.serving.Run(ctx, s.httpAddr) })
	goRun("batch", func(ctx context.Context) error {
		select {
		case <-creds:
		case <-ctx.Done():
			return nil
		}
		return s.batchLoop(ctx, ready)
	})
	if s.cfg.demo {
		goRun("demo", func(ctx context.Context) error { return s.runDemo(ctx, markReady) })
	} else {
		markReady()
	}
	<-ctx.Done()
	s.log.Info("stopping")
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	s.log.Info("stopped")
	return nil
}

// credsRetry is how often up asks the brokers again after they refused
// its credentials (a password rotated, a certificate renewed).
const credsRetry = 10 * time.Second

// awaitCredentials logs in to the brokers until they accept the
// credentials, then closes ok. A refusal is logged once, with its cause,
// and kept in credsProblem for /v1/status and /readyz.
func (s *stack) awaitCredentials(ctx context.Context, ok chan<- struct{}) {
	for {
		err := s.cfg.kafkaSec.checkCredentials(ctx, s.brokers)
		if err == nil {
			if s.credsProblem.Swap(nil) != nil {
				s.log.Info("kafka accepts the credentials now; speed and batch start")
			}
			close(ok)
			return
		}
		msg := err.Error()
		if s.credsProblem.Swap(&msg) == nil {
			s.log.Error("speed and batch wait: the brokers refuse the credentials (asked again every "+credsRetry.String()+")", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(credsRetry):
		}
	}
}

// batchLoop runs batch every --batch-every, the first time --batch-first
// after ready.
func (s *stack) batchLoop(ctx context.Context, ready <-chan struct{}) error {
	select {
	case <-ready:
	case <-ctx.Done():
		return nil
	}
	t := time.NewTimer(s.cfg.batchFirst)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		began := time.Now()
		sum, err := s.batch.Run(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			bl := s.batch.Backlog()
			s.log.Error("batch behind: run failed; retrying at the next interval", "err", err, "next_in", s.cfg.batchEvery,
				"pending_hours", bl.PendingHours, "oldest_pending_hour", bl.OldestPending, "failing_for", time.Since(bl.FailingSince).Round(time.Second))
		default:
			summary, _ := json.Marshal(sum)
			s.log.Info("batch run", "took", time.Since(began).Round(time.Millisecond), "summary", string(summary))
		}
		t.Reset(s.cfg.batchEvery)
	}
}

// printBanner tells the user where everything is.
func (s *stack) printBanner(w io.Writer) {
	base := "http://" + s.httpAddr
	// The commands printed work with the settings in force: the API's
	// certificate as the CA when it serves TLS (a self-signed one; else
	// the CA that signed it), a token variable when it wants one, the
	// Kafka security settings; never a secret.
	curl, grpcurl := "curl", "grpcurl -plaintext"
	if cert := s.cfg.apiSec.tlsCert; cert != "" {
		base = "https://" + s.httpAddr
		curl, grpcurl = "curl --cacert "+cert, "grpcurl -cacert "+cert
	}
	if s.cfg.apiSec.tokensFile != "" {
		curl += ` -H "Authorization: Bearer $TOKEN"`
		grpcurl += ` -H "authorization: Bearer $TOKEN"`
	}
	now := time.Now().UTC().Truncate(time.Minute)
	from := now.Add(-3 * time.Hour).Format(time.RFC3339)
	kafka := s.brokers[0]
	fmt.Fprintf(w, "loglambda up: data in %s, lake in %s\n", s.cfg.data, s.lake)
	fmt.Fprintf(w, "  HTTP     %s/\n", base)
	fmt.Fprintf(w, "           %s '%s/v1/hot?k=10'\n", curl, base)
	fmt.Fprintf(w, "           %s '%s/v1/traffic?from=%s&step=15m'\n", curl, base, from)
	fmt.Fprintf(w, "           %s '%s/v1/status'\n", curl, base)
	if s.cfg.apiSec.tokensFile != "" {
		fmt.Fprintf(w, "           (TOKEN: a read token of %s)\n", s.cfg.apiSec.tokensFile)
	}
	if s.grpcAddr != "" {
		fmt.Fprintf(w, "  gRPC     %s (loglambda.v1.QueryService, health, reflection)\n", s.grpcAddr)
		fmt.Fprintf(w, "           %s %s loglambda.v1.QueryService/Hot\n", grpcurl, s.grpcAddr)
		fmt.Fprintf(w, "           %s -d '{\"step\":\"900s\"}' %s loglambda.v1.QueryService/Traffic\n", grpcurl, s.grpcAddr)
	}
	if s.kafka != nil {
		fmt.Fprintf(w, "  Kafka    %s topic %s (%d partitions)\n", kafka, s.cfg.topic, s.cfg.partitions)
	} else {
		fmt.Fprintf(w, "  Kafka    %s topic %s (external: %s)\n", kafka, s.cfg.topic, s.cfg.kafkaSec.describe())
	}
	fmt.Fprintf(w, "           kcat -b %s%s -t %s -C -o -5 -e\n", kafka, s.cfg.kafkaSec.kcatFlags(), s.cfg.topic)
	fmt.Fprintf(w, "           loglambda ship --brokers %s --topic %s%s access.log\n", kafka, s.cfg.topic, s.cfg.kafkaSec.loglambdaFlags())
	if s.cfg.kafkaSec.mechanism != "" {
		fmt.Fprintf(w, "           (KAFKA_PASSWORD: the SASL password of %s)\n", s.cfg.kafkaSec.user)
	}
	fmt.Fprintf(w, "  MongoDB  %s (database %s)\n", s.mongoSrv.URI(), s.cfg.mongoDB)
	if s.cfg.alerts.rules != "" {
		fmt.Fprintf(w, "  alerts   %s every %s: curl '%s/v1/alerts'; reload: kill -HUP %d\n", s.cfg.alerts.rules, s.cfg.alerts.every, base, os.Getpid())
	}
	if s.cfg.demo {
		fmt.Fprintf(w, "  demo     generating %g events/s (first start: %s of history)\n", s.cfg.rate, s.cfg.demoHistory)
	}
	fmt.Fprintln(w, "Ctrl-C stops everything; starting again keeps the data.")
}
