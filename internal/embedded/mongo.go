package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Mongo is an in-process MongoDB wire-protocol server: FerretDB v1 with its
// SQLite backend, storing one SQLite file per database under a directory.
type Mongo struct {
	uri    string
	ids    *idIndexer
	cancel context.CancelFunc
	done   chan struct{}
	// indexing is closed when the _id indexer has stopped.
	indexing chan struct{}
}

// MongoConfig configures StartMongo.
type MongoConfig struct {
	// Listen is the TCP address; "127.0.0.1:0" picks a free port.
	Listen string
	// DataDir holds the SQLite files. Required.
	DataDir string
	// Logger receives FerretDB's logs; they are verbose, so the default
	// discards everything below warnings.
	Logger *slog.Logger
	// TLSCertFile and TLSKeyFile, when set, make the server speak TLS only
	// (URI with tls=true); TLSCAFile then also requires client
	// certificates signed by that CA. For tests of the TLS path.
	TLSCertFile, TLSKeyFile, TLSCAFile string
	// LazySync commits without waiting for the disk (SQLite's
	// synchronous=NORMAL in its WAL mode): the WAL is synced at each
	// checkpoint of the WAL into the database, not at each commit. FerretDB
	// v1.24 runs every update of an existing document as a transaction of
	// its own, so with a sync per commit a rewrite of a pane document cost
	// one fsync (~2 ms on the CI machine's disk, more than its CPU). A
	// committed transaction still survives the death of the process
	// (kill -9: it is in the OS's page cache); an OS crash or a power loss
	// may lose the last transactions, a suffix in commit order, never the
	// database's consistency. Every loglambda writer survives such a
	// suffix lost as it survives being killed before writing it, provided
	// the writer died with the store: speed resumes from the checkpoint
	// that is left and replays the rest from Kafka, batch recomputes the
	// hours its lake records that the store's horizon document does not
	// (batch/storecheck.go). So `up`, whose writers all run in its
	// process, sets it; `stores`, serving speed processes that may outlive
	// an OS crash of its machine (and keep an epoch the store lost), does
	// not.
	LazySync bool
}

// StartMongo starts the server and returns once it accepts connections.
func StartMongo(cfg MongoConfig) (*Mongo, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("start mongo: no data dir")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("start mongo: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start mongo: data dir: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	listener := ferretdb.ListenerConfig{TCP: cfg.Listen}
	if cfg.TLSCertFile != "" {
		listener = ferretdb.ListenerConfig{TLS: cfg.Listen, TLSCertFile: cfg.TLSCertFile, TLSKeyFile: cfg.TLSKeyFile, TLSCAFile: cfg.TLSCAFile}
	}
	url := "file:" + dir + "/"
	if cfg.LazySync {
		url += "?_pragma=synchronous(normal)"
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Logger:    slog.New(lazy(logger.Handler())),
		Handler:   "sqlite",
		SQLiteURL: url,
	})
	if err != nil {
		return nil, fmt.Errorf("start mongo on %s: %w", cfg.Listen, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mongo{ids: newIDIndexer(dir), cancel: cancel, done: make(chan struct{}), indexing: make(chan struct{})}
	go func() {
		defer close(m.done)
		_ = f.Run(ctx)
	}()
	go func() {
		defer close(m.indexing)
		m.ids.run(ctx, func(err error) { logger.Warn("embedded mongo: lookups by _id will scan", "err", err) })
	}()
	// MongoDBURI waits for the listener to be up.
	uriCh := make(chan string, 1)
	go func() { uriCh <- f.MongoDBURI() }()
	select {
	case m.uri = <-uriCh:
	case <-time.After(30 * time.Second):
		cancel()
		return nil, fmt.Errorf("start mongo on %s: not listening after 30s", cfg.Listen)
	case <-m.done:
		cancel()
		return nil, fmt.Errorf("start mongo on %s: server stopped at start (address in use?)", cfg.Listen)
	}
	return m, nil
}

// URI is the mongodb:// connection string.
func (m *Mongo) URI() string { return m.uri }

// IndexIDs gives every collection that exists now the index FerretDB
// needs to find documents by _id (see idIndexer). The server does it by
// itself within idIndexEvery of a collection's creation; a caller that
// creates collections and writes them at once may call it in between.
func (m *Mongo) IndexIDs(ctx context.Context) error { return m.ids.indexAll(ctx) }

// Close stops the server and waits for it.
func (m *Mongo) Close() {
	m.cancel()
	<-m.done
	<-m.indexing
}
