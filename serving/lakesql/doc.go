// Package lakesql runs read-only SQL over the Parquet lake with DuckDB: the
// query behind `loglambda sql` and POST /v1/sql.
//
// Every query gets its own in-memory DuckDB, so one query cannot see or
// change another's state. In it the view logs (and one named after the
// topic, e.g. "logs" or "nginx") reads the lake's files with
// hive_partitioning (dt and hour become columns) and union_by_name (files
// written before a column was added read as NULL there).
//
// The lake is read from disk, not through batch (serving may not import
// it), under the contract of ARCHITECTURE.md "The lake": the files of a topic
// are <lake>/<topic>/dt=YYYY-MM-DD/hour=HH/*.parquet, and when
// <lake>/<topic>/_manifest.json exists only the files its "files" list
// names ("path", relative to the topic directory) are the lake. A file
// beside them that the manifest does not name is an orphan of a crashed
// compaction or merge, and reading it would count its rows twice. The
// files come from schemas/lakefiles (Files), the one reader of the
// manifest outside batch: its version, topic and file paths.
//
// Read-only is enforced in layers (check.go, setup.go):
//
//   - the text must be a single statement (DuckDB's own parser splits it),
//     starting with SELECT, WITH, FROM, VALUES, TABLE, DESCRIBE, SHOW,
//     SUMMARIZE, EXPLAIN or "(", and DuckDB's prepared statement type must
//     be SELECT or EXPLAIN (an EXPLAIN's inner statement is checked the
//     same way, since EXPLAIN ANALYZE runs it). PRAGMA, SET, COPY, ATTACH,
//     INSERT, CREATE, CALL, LOAD, ... are refused before they run;
//   - once the views exist the database is closed to the outside:
//     enable_external_access=false with allowed_paths holding exactly the
//     lake's files (so read_csv('/etc/passwd') or COPY ... TO fails even if
//     it got past the check), no extension installs or autoloads, no
//     spilling to a temp directory, and lock_configuration=true so the
//     query cannot SET any of it back;
//   - a memory limit, a timeout (DuckDB is interrupted through the
//     context) and a row limit on the answer.
//
// Files: files.go (ErrNoLake), options.go (limits),
// setup.go (the DuckDB settings and views), check.go (statement check),
// query.go (running a query), value.go (DuckDB values to JSON and text),
// encode.go (JSON, CSV and table answers), arrow.go (Arrow IPC answer).
package lakesql
