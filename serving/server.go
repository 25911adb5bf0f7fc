package serving

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/grpc/health"

	"github.com/loglambda/loglambda/serving/alerts"
	"github.com/loglambda/loglambda/serving/lakesql"
)

// Server answers queries from an in-memory cache of the batch and speed
// views, refreshed from MongoDB in the background.
type Server struct {
	cfg cfg
	// apis is serving's table of the views (viewAPIs).
	apis    []viewAPI
	store   store
	metrics *metrics
	handler http.Handler
	// sql runs POST /v1/sql over the lake; nil without a lake.
	sql *lakesql.Lake
	// exact holds traffic counted exactly from the lake (exact.go).
	exact exactCache
	// sets holds batch's exact sets read from the lake (exact.go).
	sets setsCache
	// answers holds answers by question and data version (answers.go).
	answers answerCache
	// buckets holds a series' bucket figures by bucket and data version
	// (answers.go, cachedBucket).
	buckets answerCache
	// live is the broker's end offsets and the layers' backlogs last
	// read (/v1/status).
	live liveCache
	// statusCache holds the last /v1/status answer (status.go).
	statusCache statusCache
	// wires keeps the marshalled gRPC responses of cached answers
	// (grpcwire.go).
	wires wireCache
	// alerts evaluates the rule file (alerting.go).
	alerts *alerts.Engine

	// snap is the snapshot requests read; a refresh replaces it whole.
	snap atomic.Pointer[snapshot]
	// ready is set by the first successful refresh (/readyz); health is
	// the gRPC health service, SERVING from then on.
	ready  atomic.Bool
	health *health.Server
	// refreshErr is the error of the failing refreshes since the last
	// one that worked, nil while they work (/readyz).
	refreshErr atomic.Pointer[refreshFailure]
	// costs records what each refresh read and took (/v1/status).
	costs *refreshCosts
	// decoded holds the views of the panes held encoded last decoded
	// (cache.go, state.of).
	decoded *decodeCache

	// certs serves the TLS certificate, nil without TLS; openPaths are the
	// dashboard's static files, served without a token (auth.go).
	certs     *certReloader
	openPaths map[string]bool

	refreshMu sync.Mutex
	r         refresher // guarded by refreshMu
}

// New returns a server over db. It does not touch the database: the first
// Refresh (or Run) loads the cache, and until then queries see no data,
// /readyz answers 503 and the gRPC health service NOT_SERVING.
func New(db *mongo.Database, opts ...Opt) (*Server, error) {
	if db == nil {
		return nil, errors.New("serving: database is nil")
	}
	c := defaultCfg()
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("serving: %w", err)
	}
	var err error
	costs := &refreshCosts{}
	s := &Server{
		cfg:     c,
		store:   store{db: db, topic: c.topic, docs: &costs.docs, gen: new(atomic.Int64)},
		costs:   costs,
		metrics: newMetrics(),
		r:       newRefresher(),
		health:  newHealth(),
	}
	if c.lake != "" {
		l, err := lakesql.New(c.lake, c.topic, c.sqlOpts...)
		if err != nil {
			return nil, fmt.Errorf("serving: sql: %w", err)
		}
		s.sql = l
	}
	if c.tlsCert != "" {
		if s.certs, err = newCertReloader(c.tlsCert, c.tlsKey, c.logger); err != nil {
			return nil, fmt.Errorf("serving: %w", err)
		}
	}
	s.decoded = newDecodeCache(defaultDecodeBytes, func(view string, err error) {
		s.badDoc(view+" pane held encoded", err)
	})
	s.apis = s.viewAPIs()
	if s.alerts, err = s.newAlerts(); err != nil {
		return nil, fmt.Errorf("serving: %w", err)
	}
	s.snap.Store(emptySnapshot())
	s.handler = s.routes()
	if c.tokens != nil {
		s.handler = s.withAuth(s.handler)
	}
	return s, nil
}

// Handler is the HTTP API: the /v1 queries, /metrics, /healthz, /readyz,
// and the dashboard at /.
func (s *Server) Handler() http.Handler { return s.handler }

// shutdownTimeout bounds how long Run waits for requests in flight once its
// context is done.
const shutdownTimeout = 5 * time.Second

// Run serves HTTP on httpAddr, and gRPC on the GRPC option's address when
// set, and refreshes the cache every refresh interval until ctx is done;
// then it shuts the listeners down gracefully. A failed refresh is logged
// and retried; only a listener failure ends Run with an error (and stops
// the other listener).
func (s *Server) Run(ctx context.Context, httpAddr string) error {
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("serve http on %s: %w", httpAddr, err)
	}
	serve := []func(context.Context) error{func(ctx context.Context) error { return s.serveHTTP(ctx, ln) }}
	logArgs := []any{"http", ln.Addr().String()}
	if s.cfg.grpcAddr != "" {
		gln, err := net.Listen("tcp", s.cfg.grpcAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("serve grpc on %s: %w", s.cfg.grpcAddr, err)
		}
		serve = append(serve, func(ctx context.Context) error { return s.ServeGRPC(ctx, gln) })
		logArgs = append(logArgs, "grpc", gln.Addr().String())
	}
	if s.cfg.pprofAddr != "" {
		pln, err := net.Listen("tcp", s.cfg.pprofAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("serve pprof on %s: %w", s.cfg.pprofAddr, err)
		}
		serve = append(serve, func(ctx context.Context) error { return s.servePProf(ctx, pln) })
		logArgs = append(logArgs, "pprof", pln.Addr().String())
	}
	s.cfg.logger.Info("serving", append(logArgs, "tls", s.certs != nil, "tokens", s.cfg.tokens != nil, "topic", s.cfg.topic,
		"pane", s.cfg.pane, "refresh_interval", s.cfg.refreshInterval)...)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.refreshLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		s.runAlerts(ctx)
	}()
	errs := make(chan error, len(serve))
	for _, f := range serve {
		go func() { errs <- f(ctx) }()
	}
	for range serve {
		if e := <-errs; e != nil && err == nil {
			err = e
			cancel()
		}
	}
	cancel()
	wg.Wait()
	return err
}

// serveHTTP serves the HTTP API on ln until ctx is done, then shuts down
// gracefully, giving requests in flight shutdownTimeout to finish.
func (s *Server) serveHTTP(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, TLSConfig: s.serverTLS()}
	serveErr := make(chan error, 1)
	go func() {
		if hs.TLSConfig != nil {
			serveErr <- hs.ServeTLS(ln, "", "") // the certificate comes from GetCertificate
			return
		}
		serveErr <- hs.Serve(ln)
	}()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil {
		s.cfg.logger.Warn("http shutdown", "err", err)
	}
	<-serveErr
	return nil
}

// refreshFailure is when the refreshes started failing, and the last
// error.
type refreshFailure struct {
	since time.Time
	err   error
}

// refreshLoop refreshes at once, then again after each pause, until ctx
// is done. The pause is the refresh interval, or twice the last refresh's
// duration when that is longer: on a store that scans whole collections
// for the incremental query (FerretDB pushes down only _id lookups) a
// refresh can take longer than the interval, and back-to-back refreshes
// would take a whole core.
// maxRefreshPause bounds the pause after a slow refresh (refreshLoop).
const maxRefreshPause = 10 * time.Second

func (s *Server) refreshLoop(ctx context.Context) {
	failing := false
	for {
		start := time.Now()
		err := s.Refresh(ctx)
		took := time.Since(start)
		if err != nil && ctx.Err() == nil {
			if f := s.refreshErr.Load(); f == nil {
				s.refreshErr.Store(&refreshFailure{since: start, err: err})
			} else {
				s.refreshErr.Store(&refreshFailure{since: f.since, err: err})
			}
		} else if err == nil {
			s.refreshErr.Store(nil)
		}
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			s.cfg.logger.Warn("cache refresh failed; serving the previous cache", "err", err)
			failing = true
		case err != nil && ctx.Err() == nil:
			s.cfg.logger.Debug("cache refresh failed again", "err", err)
		case err == nil && failing:
			s.cfg.logger.Info("cache refresh recovered")
			failing = false
		}
		// A slow refresh pauses longer, sparing a busy store, but at
		// most maxRefreshPause: one refresh of minutes (scans during a
		// backfill's catch-up) paused the next by twice as long, and the
		// answers stayed that far behind.
		pause := min(max(s.cfg.refreshInterval, 2*took), max(s.cfg.refreshInterval, maxRefreshPause))
		if err == nil && s.costs.pending.Load() > 0 {
			// Pane writes left for the next ticks (tickWrites): read on
			// at once, as one long refresh read them all before, but
			// publishing between ticks.
			pause = 0
		}
		if pause > s.cfg.refreshInterval {
			s.cfg.logger.Debug("cache refresh slower than the interval; pausing longer", "took", took, "pause", pause)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
