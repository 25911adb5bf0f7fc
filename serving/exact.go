package serving

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/exact"
	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/lakesql"
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
// seconds) and of the whole range, counted from the lake or from batch's
// exact sets.
type exactTraffic struct {
	series map[int64]TrafficCounts
	total  TrafficCounts
	// distinctOnly: UV and IPs only (from the sets); PV is the panes'.
	distinctOnly bool
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

// exactTrafficOf returns the exact traffic of sp by step, from the cache,
// batch's exact sets (exactFromSets) or, where an hour of the range has
// rows but no sets (a lake recomputed before they were written), the lake.
func (s *Server) exactTrafficOf(ctx context.Context, sn *snapshot, sp span, step int64) (*exactTraffic, error) {
	digest, _ := sn.status.lake["digest"].(string)
	k := exactKey{from: sp.from, to: sp.to, step: step, horizon: sn.horizon.Unix(), digest: digest}
	if v, ok := s.exact.get(k); ok {
		return v, nil
	}
	v, err := s.exactFromSets(ctx, sn, sp, step)
	if err != nil {
		s.cfg.logger.Warn("exact sets unreadable, counting from the lake", "err", err)
	}
	if v != nil {
		s.exact.put(k, v)
		return v, nil
	}
	if s.sql == nil {
		return nil, lakesql.ErrNoLake
	}
	q := fmt.Sprintf(sqlExactTraffic, step, step*1e6, sp.from*1e6, sp.to*1e6,
		sp.fromTime().Format(time.DateOnly), sp.toTime().Add(-time.Microsecond).Format(time.DateOnly), event.VisitorSQL)
	// Only the range's hours are read: a remote lake fetches their files
	// into the cache, not the lake's months.
	res, err := s.sql.QueryHours(ctx, q, sp.fromTime(), sp.toTime())
	if err != nil {
		return nil, fmt.Errorf("exact traffic from the lake: %w", err)
	}
	v = &exactTraffic{series: make(map[int64]TrafficCounts, len(res.Rows))}
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

// exactFromSets counts the distinct visitors and IPs of every bucket and
// of the range as the cardinality of the union of batch's exact sets
// (schemas/exact) of its panes, a whole hour by the hour's own set. It
// returns nil and no error when the sets cannot answer: a step or range
// not on the sets' panes, or an hour of the range with rows (PV in the
// batch panes) but no sets.
func (s *Server) exactFromSets(ctx context.Context, sn *snapshot, sp span, step int64) (*exactTraffic, error) {
	pane := s.paneSeconds()
	if pane <= 0 || step%pane != 0 || sp.from%pane != 0 || sp.to%pane != 0 {
		return nil, nil
	}
	first, last := sp.from-mod(sp.from, 3600), sp.to-1-mod(sp.to-1, 3600)
	ids := make([]string, 0, (last-first)/3600+1)
	for h := first; h <= last; h += 3600 {
		ids = append(ids, exact.DocID(time.Unix(h, 0)))
	}
	hours, err := s.store.readExact(ctx, ids)
	if err != nil {
		return nil, err
	}
	gen := s.store.gen.Load()
	var buf []*state
	for h := first; h <= last; h += 3600 {
		if eh := hours[h]; eh != nil && eh.gen == gen && eh.sets.PaneSecs == pane {
			continue
		}
		// No sets for the hour: right only when it has no rows.
		buf = sn.statesIn(buf[:0], max(h, sp.from), min(h+3600, sp.to), pane)
		for _, st := range buf {
			if st.of(views.ViewTraffic).Traffic.PV > 0 {
				return nil, nil
			}
		}
		delete(hours, h)
	}
	var c exact.Counter
	count := func(from, to int64) TrafficCounts {
		c.Reset()
		for h := from - mod(from, 3600); h < to; h += 3600 {
			if eh := hours[h]; eh != nil {
				c.Add(eh.sets, from, to)
			}
		}
		uv, ips := c.Counts()
		return TrafficCounts{UV: uv, IPs: ips}
	}
	v := &exactTraffic{series: map[int64]TrafficCounts{}, distinctOnly: true}
	for b := sp.from - mod(sp.from, step); b < sp.to; b += step {
		v.series[b] = count(max(b, sp.from), min(b+step, sp.to))
	}
	v.total = count(sp.from, sp.to)
	return v, nil
}

// exactHour is an hour's exact sets as read, with their generation.
type exactHour struct {
	sets *exact.Hour
	gen  int64
}

// readExact reads the exact sets documents ids, by hour (Unix seconds).
func (s store) readExact(ctx context.Context, ids []string) (map[int64]*exactHour, error) {
	cur, err := s.db.Collection(exact.Collection).Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
	if err != nil {
		return nil, fmt.Errorf("read %s %d hours: %w", exact.Collection, len(ids), err)
	}
	defer cur.Close(ctx)
	out := make(map[int64]*exactHour, len(ids))
	for cur.Next(ctx) {
		var d exact.Doc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("read %s: %w", exact.Collection, err)
		}
		h, err := exact.Decode(d.State)
		if err != nil {
			return nil, fmt.Errorf("read %s %s: %w", exact.Collection, d.ID, err)
		}
		out[h.Hour.Unix()] = &exactHour{sets: h, gen: collections.CurrentGeneration(d.Generation)}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", exact.Collection, err)
	}
	return out, nil
}
