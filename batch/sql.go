package batch

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// The SQL of recompute. Every query reads the temp view hour_rows: the
// parsed rows (parse errors excluded, as views.Pane.Add excludes them) of
// one hour's lake files, with their pane start in microseconds.

// sqlHourRows defines hour_rows. Arguments: the pane width in microseconds,
// the list of Parquet files (a DuckDB list literal), the latency bucket
// expression (latencyBucketSQL), the visitor expression (sqlVisitor or
// sqlUVID).
//
// uv_id is event.Visitor() in SQL. status_class is views.Traffic's class:
// 1..5 for 1xx..5xx, 0 for anything else. instance_key and level_key
// are the levels view's key (views.LevelKeyOf). union_by_name reads files
// written before the uv column beside newer ones (uv is NULL there).
const sqlHourRows = `
CREATE OR REPLACE TEMP VIEW hour_rows AS
SELECT
    (epoch_us(ts) // %[1]d) * %[1]d AS pane_us,
    hot_term,
    %[4]s AS uv_id,
    ip,
    CASE WHEN status >= 100 AND status < 600 THEN status // 100 ELSE 0 END AS status_class,
    bytes,
    latency_ms,
    %[3]s AS latency_bucket,
    ` + sqlInstanceKey + ` AS instance_key,
    ` + sqlLevelKey + ` AS level_key
FROM read_parquet(%[2]s, hive_partitioning = false, union_by_name = true)
WHERE parse_error = ''`

// sqlInstanceKey and sqlLevelKey are views.LevelKeyOf: the instance, else
// the host, else "-"; the level, else "-". NULL (a column missing from an
// old file) counts as empty.
const (
	sqlInstanceKey = `CASE WHEN instance <> '' THEN instance WHEN host <> '' THEN host ELSE '-' END`
	sqlLevelKey    = `CASE WHEN level <> '' THEN level ELSE '-' END`
)

// sqlLevels counts rows per pane and (instance, level) key, exactly.
const sqlLevels = `
SELECT pane_us, instance_key, level_key, count(*) AS n
FROM hour_rows
GROUP BY pane_us, instance_key, level_key
ORDER BY pane_us, instance_key, level_key`

// sqlUVID and sqlVisitor are event.UVIDSQL and event.VisitorSQL: the
// visitor of a row exactly as event.Visitor() counts it.
const (
	sqlUVID    = event.UVIDSQL
	sqlVisitor = event.VisitorSQL
)

// sqlHasUV counts the files of a list (argument: a DuckDB list literal)
// that have the uv column.
const sqlHasUV = `SELECT count(*) FROM parquet_schema(%s) WHERE name = 'uv'`

// sqlHot counts search terms per pane, exactly.
const sqlHot = `
SELECT pane_us, hot_term, count(*) AS n
FROM hour_rows
WHERE hot_term <> ''
GROUP BY pane_us, hot_term
ORDER BY pane_us, hot_term`

// sqlTraffic is the additive part of the traffic view per pane, and the
// exact distinct counts (views.TrafficCountsSQL, which serving's exact
// answers share).
const sqlTraffic = `
SELECT
    pane_us,
    ` + views.TrafficCountsSQL + `,
    count(*) FILTER (WHERE status_class = 0) AS s0,
    count(*) FILTER (WHERE status_class = 1) AS s1,
    count(*) FILTER (WHERE status_class = 2) AS s2,
    count(*) FILTER (WHERE status_class = 3) AS s3,
    count(*) FILTER (WHERE status_class = 4) AS s4,
    count(*) FILTER (WHERE status_class = 5) AS s5,
    sum(bytes)::BIGINT AS bytes
FROM hour_rows
GROUP BY pane_us
ORDER BY pane_us`

// sqlLatency is the latency histogram and sum per pane. Only positive
// latencies count (NaN is excluded explicitly: DuckDB orders NaN above
// every number, Go's NaN > 0 is false).
const sqlLatency = `
SELECT pane_us, latency_bucket, count(*) AS n, sum(latency_ms) AS total
FROM hour_rows
WHERE latency_ms > 0 AND NOT isnan(latency_ms)
GROUP BY pane_us, latency_bucket
ORDER BY pane_us, latency_bucket`

// sqlUVIDs and sqlIPs list the distinct ids per pane; Go inserts them into
// the HyperLogLog sketches, so batch sketches merge with speed's.
const sqlUVIDs = `
SELECT DISTINCT pane_us, uv_id FROM hour_rows WHERE uv_id <> '' ORDER BY pane_us, uv_id`

const sqlIPs = `
SELECT DISTINCT pane_us, ip FROM hour_rows WHERE ip <> '' ORDER BY pane_us, ip`

// latencyBucketSQL is views.LatencyBucket as a CASE expression over
// views.LatencyBounds, generated so the bounds are written once.
func latencyBucketSQL() string {
	var sb strings.Builder
	sb.WriteString("CASE")
	for i, b := range views.LatencyBounds {
		fmt.Fprintf(&sb, " WHEN latency_ms <= %s THEN %d", strconv.FormatFloat(b, 'g', -1, 64), i)
	}
	fmt.Fprintf(&sb, " ELSE %d END", len(views.LatencyBounds))
	return sb.String()
}

// sqlStringList is a DuckDB list literal of strings: ['a', 'b”c'].
func sqlStringList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// hourRowsSQL is sqlHourRows for one hour's files; hasUV says whether any
// of them has the uv column.
func hourRowsSQL(paneMicros int64, files []string, hasUV bool) string {
	visitor := sqlUVID
	if hasUV {
		visitor = sqlVisitor
	}
	return fmt.Sprintf(sqlHourRows, paneMicros, sqlStringList(files), latencyBucketSQL(), visitor)
}
