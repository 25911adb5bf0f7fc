package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// FerretDB v1.24's SQLite backend looks a document up by _id (every find,
// replace and delete by _id) with the SQL expression
// `_ferretdb_sjson->'$._id'`, but it indexes _id on `_ferretdb_sjson->"_id"`.
// SQLite matches index expressions as written, so it never uses that index:
// EXPLAIN QUERY PLAN says SCAN, and each lookup parses the JSON of every
// document of the collection. A replace then costs time in proportion to
// the collection (tens of milliseconds for a few thousand pane documents),
// and writing a collection costs its size squared.
//
// idIndexer adds to every FerretDB table the index on the expression
// FerretDB queries by. FerretDB does not know about it (it lists and drops
// only the indexes in its own metadata), SQLite keeps it up to date and
// drops it with its table. Tables appear when a collection is first
// written, so the indexer looks for new ones every idIndexEvery.
type idIndexer struct {
	dir string

	mu  sync.Mutex
	dbs map[string]*sql.DB // by file name
}

// idIndexEvery is how often new collections get their index. A collection
// written before then scans for at most this long.
const idIndexEvery = 200 * time.Millisecond

// idIndexSuffix names the index: "<table>_loglambda_id".
const idIndexSuffix = "_loglambda_id"

func newIDIndexer(dir string) *idIndexer {
	return &idIndexer{dir: dir, dbs: map[string]*sql.DB{}}
}

// run indexes new tables until ctx is done, then closes its connections.
func (x *idIndexer) run(ctx context.Context, logf func(error)) {
	defer x.close()
	t := time.NewTicker(idIndexEvery)
	defer t.Stop()
	for {
		if err := x.indexAll(ctx); err != nil && ctx.Err() == nil {
			logf(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// indexAll adds the index to every table of every database that lacks it.
func (x *idIndexer) indexAll(ctx context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.dbs == nil {
		return fmt.Errorf("index _id: server stopped")
	}
	files, err := filepath.Glob(filepath.Join(x.dir, "*.sqlite"))
	if err != nil {
		return fmt.Errorf("index _id: list %s: %w", x.dir, err)
	}
	for _, f := range files {
		if err := x.indexFile(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

func (x *idIndexer) indexFile(ctx context.Context, file string) error {
	name := filepath.Base(file)
	db := x.dbs[name]
	if db == nil {
		var err error
		db, err = sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
		if err != nil {
			return fmt.Errorf("index _id: open %s: %w", file, err)
		}
		db.SetMaxOpenConns(1)
		x.dbs[name] = db
	}
	var exists int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_ferretdb_collections'`).Scan(&exists)
	if err != nil || exists == 0 {
		return err // a database file FerretDB is still creating
	}
	// Tables without the index; a table dropped and created again (same
	// name) is found again here.
	rows, err := db.QueryContext(ctx, `SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)`, idIndexSuffix)
	if err != nil {
		return fmt.Errorf("index _id: list collections of %s: %w", file, err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return fmt.Errorf("index _id: list collections of %s: %w", file, err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("index _id: list collections of %s: %w", file, err)
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (_ferretdb_sjson->'$._id')`, quoteIdent(t+idIndexSuffix), quoteIdent(t))
		if _, err := db.ExecContext(ctx, q); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue // dropped meanwhile
			}
			return fmt.Errorf("index _id: %s table %s: %w", file, t, err)
		}
	}
	return nil
}

func (x *idIndexer) close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, db := range x.dbs {
		_ = db.Close()
	}
	x.dbs = nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
