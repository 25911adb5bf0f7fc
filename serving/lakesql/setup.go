package lakesql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The SQL run on each query's fresh DuckDB before the user's statement.
//
// sqlLimits come first: memory_limit (argument: the size, validated by
// cfg.validate), no temp directory (a query over the memory limit fails
// rather than writing to disk), and no extension installs or autoloads
// (offline machines, and nothing gets loaded on a query's behalf).
const sqlLimits = `
SET memory_limit = '%s';
SET temp_directory = '';
SET autoinstall_known_extensions = false;
SET autoload_known_extensions = false;`

// sqlAllowedPaths lists the only files DuckDB may open once external
// access is off (argument: a list literal of the lake's files).
const sqlAllowedPaths = `SET allowed_paths = %s;`

// sqlLogsView is the view over the lake (argument: the list of files).
// hive_partitioning turns dt=.../hour=... into the columns dt and hour;
// union_by_name reads files written before a column existed (NULL there).
const sqlLogsView = `
CREATE VIEW logs AS
SELECT * FROM read_parquet(%s, hive_partitioning = true, union_by_name = true);`

// sqlTopicView names the same rows after the topic (argument: the quoted
// identifier), so SELECT ... FROM nginx reads the lake of topic nginx.
const sqlTopicView = `CREATE VIEW %s AS SELECT * FROM logs;`

// sqlLockDown closes the database to the world and freezes the settings
// above, so the user's statement cannot SET them back.
const sqlLockDown = `
SET enable_external_access = false;
SET lock_configuration = true;`

// setup prepares conn for a query over files: limits, the views, then the
// lock-down.
func (l *Lake) setup(ctx context.Context, conn *sql.Conn, files []string) error {
	list := stringList(files)
	steps := []struct{ what, sql string }{
		{"set limits", fmt.Sprintf(sqlLimits, l.cfg.memoryLimit)},
		{"allow the lake's files", fmt.Sprintf(sqlAllowedPaths, list)},
		{"create view logs", fmt.Sprintf(sqlLogsView, list)},
	}
	if l.topic != "logs" {
		steps = append(steps, struct{ what, sql string }{"create view " + quoteIdent(l.topic), fmt.Sprintf(sqlTopicView, quoteIdent(l.topic))})
	}
	steps = append(steps, struct{ what, sql string }{"lock down", sqlLockDown})
	for _, s := range steps {
		if _, err := conn.ExecContext(ctx, s.sql); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}

// stringList is a DuckDB list literal of strings, single quotes doubled.
func stringList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// quoteIdent quotes a DuckDB identifier: "my ""topic""".
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
