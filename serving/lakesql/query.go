package lakesql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/loglambda/loglambda/base/objstore"
	"github.com/loglambda/loglambda/schemas/lakefiles"
)

// ErrBadQuery is wrapped by the error of a query DuckDB could not prepare
// or run (syntax, unknown column, a cast that fails...); the message after
// it is DuckDB's.
var ErrBadQuery = errors.New("bad query")

// Lake runs read-only SQL over the Parquet lake of one topic. It holds no
// DuckDB between queries: the lake's file list is read and a database
// opened per query, so a query always sees the lake as the manifest says
// it is now. Safe for concurrent use.
type Lake struct {
	root, topic string
	cfg         cfg
	// store and cache are where the files are and where DuckDB reads
	// them: the directory itself, or a remote lake's local copies.
	store objstore.Store
	cache *objstore.Cache
	// turns holds one token per query allowed to run at once.
	turns chan struct{}
}

// New returns the SQL view of the lake of topic under root (the --lake
// directory). It does not touch the disk: a missing lake is reported by
// each query (ErrNoLake), so a server can start before batch has written
// anything.
func New(root, topic string, opts ...Opt) (*Lake, error) {
	if root == "" {
		return nil, errors.New("lakesql: lake directory is empty")
	}
	if _, err := lakefiles.TopicDir(root, topic); err != nil {
		return nil, fmt.Errorf("lakesql: %w", err)
	}
	c := defaultCfg()
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("lakesql: %w", err)
	}
	l := &Lake{root: root, topic: topic, cfg: c, store: c.store, cache: c.cache, turns: make(chan struct{}, c.maxConcurrent)}
	if l.store == nil {
		abs, err := filepath.Abs(root)
		if err != nil {
			return nil, fmt.Errorf("lakesql: lake %s: %w", root, err)
		}
		l.store = objstore.NewDir(abs)
		if l.cache, err = objstore.NewCache(l.store, "", 0); err != nil {
			return nil, fmt.Errorf("lakesql: %w", err)
		}
	}
	if l.cache == nil {
		return nil, fmt.Errorf("lakesql: lake %s: a remote lake needs a cache", root)
	}
	return l, nil
}

// RowLimit is the most rows an answer holds.
func (l *Lake) RowLimit() int { return l.cfg.rowLimit }

// Column is one column of an answer: its name and DuckDB type
// ("BIGINT", "VARCHAR", "TIMESTAMP WITH TIME ZONE", "DECIMAL(18,3)"...).
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Result is a query's answer: the values are as duckdb-go returns them
// (int64, string, time.Time, duckdb.Decimal, []any...); the encoders turn
// them into JSON, CSV, a table or Arrow.
type Result struct {
	Columns []Column
	Rows    [][]any
	// Truncated is set when the query had more rows than the row limit.
	Truncated bool
	Elapsed   time.Duration
}

// errTimeout is the cause of a context ended by Timeout, to tell it from
// the caller giving up.
var errTimeout = errors.New("lakesql timeout")

// Query runs q, a single read-only statement, over the lake. Errors wrap
// ErrRejected (not a single read-only query), ErrBadQuery (DuckDB refused
// or failed it, with DuckDB's message), ErrNoLake (nothing to query) or
// context.DeadlineExceeded (the timeout passed, or ctx's deadline).
func (l *Lake) Query(ctx context.Context, q string) (*Result, error) {
	return l.query(ctx, q, nil)
}

// QueryHours runs q as Query does, over the lake's files of the
// event-time hours that overlap [from, to) only: the files a query
// filtered on that range of ts can read. A remote lake then fetches those
// hours' files into its cache, not the whole lake (serving's exact
// distinct counts ask for an hour or a day of a lake of months). Errors
// as Query's; ErrNoLake when no file is in the range.
func (l *Lake) QueryHours(ctx context.Context, q string, from, to time.Time) (*Result, error) {
	return l.query(ctx, q, func(objs []objstore.Info) ([]objstore.Info, error) {
		var kept []objstore.Info
		for _, o := range objs {
			h, ok := lakefiles.KeyHour(strings.TrimPrefix(o.Key, l.topic+"/"))
			if !ok {
				return nil, fmt.Errorf("lake file %s: no dt=/hour= directory", o.Key)
			}
			if h.Before(to) && h.Add(time.Hour).After(from) {
				kept = append(kept, o)
			}
		}
		if len(kept) == 0 {
			return nil, fmt.Errorf("%w between %s and %s for topic %q", ErrNoLake, from.Format(time.RFC3339), to.Format(time.RFC3339), l.topic)
		}
		return kept, nil
	})
}

// query runs q over the lake's objects, those pick keeps (nil: all).
func (l *Lake) query(ctx context.Context, q string, pick func([]objstore.Info) ([]objstore.Info, error)) (*Result, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeoutCause(ctx, l.cfg.timeout, errTimeout)
	defer cancel()
	if err := checkText(q); err != nil {
		return nil, err
	}
	select {
	case l.turns <- struct{}{}:
		defer func() { <-l.turns }()
	case <-ctx.Done():
		return nil, l.ctxError(ctx, "waiting for a turn")
	}
	// A merge replaces files and deletes the old ones after saving the
	// manifest: a query holding the old list can find a file gone. One
	// retry with the new list covers that race.
	var res *Result
	var err error
	for attempt := 0; ; attempt++ {
		var objs []objstore.Info
		objs, err = lakefiles.Objects(ctx, l.store, l.topic)
		if err == nil && pick != nil {
			objs, err = pick(objs)
		}
		if err != nil {
			return nil, err
		}
		var files []string
		var release func()
		files, release, err = l.cache.Fetch(ctx, objs)
		if err == nil {
			res, err = l.run(ctx, files, q)
			release()
		}
		if err == nil || attempt > 0 || errors.Is(err, ErrRejected) || ctx.Err() != nil {
			break
		}
		again, ferr := lakefiles.Objects(ctx, l.store, l.topic)
		if ferr == nil && pick != nil {
			again, ferr = pick(again)
		}
		if ferr != nil || slices.Equal(again, objs) {
			break
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, l.ctxError(ctx, "query")
		}
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// ctxError says why ctx ended: our timeout, the caller's deadline or the
// caller giving up.
func (l *Lake) ctxError(ctx context.Context, during string) error {
	if context.Cause(ctx) == errTimeout {
		return fmt.Errorf("%s: timed out after %s: %w", during, l.cfg.timeout, context.DeadlineExceeded)
	}
	return fmt.Errorf("%s: %w", during, ctx.Err())
}

// run opens a fresh DuckDB, sets it up over files and runs q in it.
func (l *Lake) run(ctx context.Context, files []string, q string) (*Result, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	defer conn.Close()
	if err := l.setup(ctx, conn, files); err != nil {
		return nil, fmt.Errorf("open lake %s: %w", l.root, err)
	}
	var res *Result
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("duckdb connection is a %T", dc)
		}
		res, err = l.runStmt(ctx, c, q)
		return err
	})
	return res, err
}

// prepare prepares q, refusing more than one statement and any statement
// that is not a read-only query. The driver's Prepare, unlike
// PrepareContext, refuses several statements instead of running all but
// the last.
func prepare(c *duckdb.Conn, q string) (*duckdb.Stmt, error) {
	st, err := c.Prepare(q)
	if err != nil {
		if strings.Contains(err.Error(), "multi-statement") {
			return nil, fmt.Errorf("%w: only one statement is allowed", ErrRejected)
		}
		return nil, fmt.Errorf("%w: %s", ErrBadQuery, duckMessage(err))
	}
	s, ok := st.(*duckdb.Stmt)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("duckdb statement is a %T", st)
	}
	t, err := s.StatementType()
	if err == nil {
		err = checkType(q, t)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// runStmt checks and runs q on c and reads up to the row limit.
func (l *Lake) runStmt(ctx context.Context, c *duckdb.Conn, q string) (*Result, error) {
	// EXPLAIN ANALYZE runs the statement it explains: check that one too.
	if w, _ := firstWord(q); w == "EXPLAIN" {
		inner, ok := explainTarget(q)
		if !ok {
			return nil, fmt.Errorf("%w: only EXPLAIN [ANALYZE] followed by a query is allowed", ErrRejected)
		}
		if w, _ := firstWord(inner); w == "EXPLAIN" {
			return nil, fmt.Errorf("%w: EXPLAIN of an EXPLAIN", ErrRejected)
		}
		if err := checkText(inner); err != nil {
			return nil, err
		}
		s, err := prepare(c, inner)
		if err != nil {
			return nil, err
		}
		s.Close()
	}
	s, err := prepare(c, q)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rows, err := s.QueryContext(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadQuery, duckMessage(err))
	}
	defer rows.Close()
	res := &Result{Rows: [][]any{}}
	names := rows.Columns()
	typed, _ := rows.(driver.RowsColumnTypeDatabaseTypeName)
	for i, n := range names {
		col := Column{Name: n}
		if typed != nil {
			col.Type = typed.ColumnTypeDatabaseTypeName(i)
		}
		res.Columns = append(res.Columns, col)
	}
	for {
		dest := make([]driver.Value, len(names))
		err := rows.Next(dest)
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s", ErrBadQuery, duckMessage(err))
		}
		if len(res.Rows) == l.cfg.rowLimit {
			res.Truncated = true
			return res, nil
		}
		row := make([]any, len(dest))
		for i, v := range dest {
			row[i] = v
		}
		res.Rows = append(res.Rows, row)
	}
}

// duckMessage is DuckDB's message without duckdb-go's "could not
// prepare query" wrapper lines.
func duckMessage(err error) string {
	var de *duckdb.Error
	if errors.As(err, &de) {
		return strings.TrimSpace(de.Msg)
	}
	return strings.TrimSpace(err.Error())
}

// ReadState reads a file a layer keeps in the topic directory beside the
// lake's files (not Parquet, not named by the manifest; batch's
// SaveState), such as batch's exact sets; nil and no error when there is
// none. name is relative to the topic directory.
func (l *Lake) ReadState(ctx context.Context, name string) ([]byte, error) {
	if d, ok := l.store.(*objstore.Dir); ok {
		// Read in place: the store's Get also hashes the bytes for a
		// version no one asks for here (~2 ms a megabyte).
		data, err := os.ReadFile(d.Path(l.topic + "/" + name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", l.topic, name, err)
		}
		return data, nil
	}
	data, _, err := l.store.Get(ctx, l.topic+"/"+name)
	if errors.Is(err, objstore.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", l.topic, name, err)
	}
	return data, nil
}
