package serving

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// Distinct counts do not add up: the batch panes hold each pane's exact
// UV and IPs, but a bucket or a total of several panes can only merge
// their HyperLogLog sketches, an estimate. A range wholly before the batch
// horizon promises exact answers, so when the server has the lake, its
// traffic is counted from the lake's rows with DuckDB (the source the
// batch views were built from, with the visitor rule of speed and batch),
// and kept in a small cache until the horizon or the lake changes.

// exactCacheSize bounds the exact answers kept; when full the cache is
// emptied, as answers are cheap to recount and a bound matters more than
// a clever eviction.
const exactCacheSize = 256

// exactKey identifies an exact traffic answer: the range and step, and
// the state of the lake it was counted from.
type exactKey struct {
	from, to, step int64
	horizon        int64
	digest         string
}

// exactTraffic is the traffic of each step bucket (by start, Unix
// seconds) and of the whole range, counted from the lake.
type exactTraffic struct {
	series map[int64]TrafficCounts
	total  TrafficCounts
}

// exactCache holds exact traffic answers. Safe for concurrent use.
type exactCache struct {
	mu sync.Mutex
	m  map[exactKey]*exactTraffic
}

func (c *exactCache) get(k exactKey) (*exactTraffic, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *exactCache) put(k exactKey, v *exactTraffic) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= exactCacheSize {
		c.m = make(map[exactKey]*exactTraffic)
	}
	c.m[k] = v
}

// sqlExactTraffic counts PV, UV and IPs per step bucket and over the whole
// range (the row whose bucket is NULL), as batch recompute counts them
// (views.TrafficCountsSQL): parse errors excluded, empty visitors and IPs
// not counted. Arguments:
// the step in seconds and microseconds, the range in microseconds, the
// first and last day of the range (partition pruning), the visitor
// expression.
const sqlExactTraffic = `
SELECT
    (epoch_us(ts) // %[2]d) * %[1]d AS bucket,
    ` + views.TrafficCountsSQL + `
FROM (
    SELECT ts, ip, %[7]s AS uv_id
    FROM logs
    WHERE parse_error = ''
      AND epoch_us(ts) >= %[3]d AND epoch_us(ts) < %[4]d
      AND CAST(dt AS VARCHAR) BETWEEN '%[5]s' AND '%[6]s'
)
GROUP BY GROUPING SETS ((bucket), ())`

// exactTrafficOf returns the exact traffic of sp by step, from the cache
// or the lake.
func (s *Server) exactTrafficOf(ctx context.Context, sn *snapshot, sp span, step int64) (*exactTraffic, error) {
	digest, _ := sn.status.lake["digest"].(string)
	k := exactKey{from: sp.from, to: sp.to, step: step, horizon: sn.horizon.Unix(), digest: digest}
	if v, ok := s.exact.get(k); ok {
		return v, nil
	}
	q := fmt.Sprintf(sqlExactTraffic, step, step*1e6, sp.from*1e6, sp.to*1e6,
		sp.fromTime().Format(time.DateOnly), sp.toTime().Add(-time.Microsecond).Format(time.DateOnly), event.VisitorSQL)
	// Only the range's hours are read: a remote lake fetches their files
	// into the cache, not the lake's months.
	res, err := s.sql.QueryHours(ctx, q, sp.fromTime(), sp.toTime())
	if err != nil {
		return nil, fmt.Errorf("exact traffic from the lake: %w", err)
	}
	v := &exactTraffic{series: make(map[int64]TrafficCounts, len(res.Rows))}
	for _, row := range res.Rows {
		if len(row) != 4 {
			return nil, fmt.Errorf("exact traffic from the lake: %d columns, want 4", len(row))
		}
		var c TrafficCounts
		var ok [3]bool
		c.PV, ok[0] = row[1].(int64)
		c.UV, ok[1] = row[2].(int64)
		c.IPs, ok[2] = row[3].(int64)
		if !ok[0] || !ok[1] || !ok[2] {
			return nil, fmt.Errorf("exact traffic from the lake: unexpected row %v", row)
		}
		switch b := row[0].(type) {
		case nil:
			v.total = c
		case int64:
			v.series[b] = c
		default:
			return nil, fmt.Errorf("exact traffic from the lake: bucket %T", row[0])
		}
	}
	s.exact.put(k, v)
	return v, nil
}
