package serving

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/exact"
	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/lakesql"
)

// Distinct counts do not add up: the batch panes hold each pane's exact
// UV and IPs, but a bucket or a total of several panes can only merge
// their HyperLogLog sketches, an estimate. A range wholly before the batch
// horizon promises exact answers. Batch recompute keeps, beside the lake,
// each hour's exact sets of visitors and IPs per pane and for the hour
// (schemas/exact), so a bucket's or the range's exact count is the
// cardinality of the union of its panes' sets (whole hours by the hour's
// set): milliseconds for a day, where counting the lake's rows again with
// DuckDB took seconds. Where an hour of the range has rows but no sets (a
// lake recomputed before they were written), the range is counted from
// the lake's rows with DuckDB (the source the batch views were built from,
// with the visitor rule of speed and batch). Answers are kept in a small
// cache until the horizon or the lake changes.

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
	if v, err = s.exactFromLake(ctx, sp, step); err != nil {
		return nil, err
	}
	s.exact.put(k, v)
	return v, nil
}

// exactFromLake counts the traffic of sp by step from the lake's rows.
func (s *Server) exactFromLake(ctx context.Context, sp span, step int64) (*exactTraffic, error) {
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
	return v, nil
}

// exactFromSets counts the distinct visitors and IPs of every bucket and
// of the range as the cardinality of the union of batch's exact sets
// (schemas/exact) of its panes, a whole hour by the hour's own set and
// whole quarter hours by theirs (a 15-minute bucket is one set, counted
// by its length). It returns nil and no error when the sets cannot answer: a step or range
// not on the sets' panes, or an hour of the range with rows (PV in the
// batch panes) but no sets.
func (s *Server) exactFromSets(ctx context.Context, sn *snapshot, sp span, step int64) (*exactTraffic, error) {
	pane := s.paneSeconds()
	if s.sql == nil || pane <= 0 || step%pane != 0 || sp.from%pane != 0 || sp.to%pane != 0 {
		return nil, nil
	}
	first, last := sp.from-mod(sp.from, 3600), sp.to-1-mod(sp.to-1, 3600)
	// The hours a bucket or the range holds in part need their quarters'
	// sets (cut on quarters) or their panes' (cut elsewhere).
	need := map[int64]setsNeed{}
	cut := func(from, to int64) {
		for _, t := range [2]int64{from, to} {
			n := needHour
			switch {
			case mod(t, 3600) == 0:
				continue
			case mod(t, exact.QuarterSecs) == 0:
				n = needQuarters
			default:
				n = needPanes
			}
			h := t - mod(t, 3600)
			need[h] = max(need[h], n)
		}
	}
	cut(sp.from, sp.to)
	for b := sp.from - mod(sp.from, step); b < sp.to; b += step {
		cut(max(b, sp.from), min(b+step, sp.to))
	}
	digest, _ := sn.status.lake["digest"].(string)
	hours, err := s.readExact(ctx, digest, first, last, need)
	if err != nil {
		return nil, err
	}
	gen := s.store.gen.Load()
	var buf []*state
	for h := first; h <= last; h += 3600 {
		if eh := hours[h]; eh != nil && collections.CurrentGeneration(eh.Generation) == gen && eh.PaneSecs == pane {
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
	count := func(from, to int64) (TrafficCounts, error) {
		c.Reset()
		for h := from - mod(from, 3600); h < to; h += 3600 {
			if eh := hours[h]; eh != nil {
				c.Add(eh, from, to)
			}
		}
		uv, ips, err := c.Counts()
		return TrafficCounts{UV: uv, IPs: ips}, err
	}
	v := &exactTraffic{series: map[int64]TrafficCounts{}, distinctOnly: true}
	for b := sp.from - mod(sp.from, step); b < sp.to; b += step {
		if v.series[b], err = count(max(b, sp.from), min(b+step, sp.to)); err != nil {
			return nil, err
		}
	}
	if v.total, err = count(sp.from, sp.to); err != nil {
		return nil, err
	}
	return v, nil
}

// setsCacheBytes bounds the exact sets serving keeps decoded (their
// encodings, which the bitmaps read in place): a week of the demo's is
// about a tenth of it. When full the cache is emptied, as for exactCache.
const setsCacheBytes = 64 << 20

// setsKey is an hour's sets as read at one state of the lake: with its
// panes' (exact.Name) or the hour's and its quarters' alone
// (exact.HourName).
type setsKey struct {
	hour   int64
	panes  bool
	digest string
}

// setsCache holds hours' exact sets read from the lake; an hour without
// sets is held as nil. Safe for concurrent use.
type setsCache struct {
	mu    sync.Mutex
	m     map[setsKey]*exact.Hour
	bytes int
}

func (c *setsCache) get(k setsKey) (*exact.Hour, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[k]
	return h, ok
}

func (c *setsCache) put(k setsKey, h *exact.Hour, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.bytes+size > setsCacheBytes {
		c.m, c.bytes = make(map[setsKey]*exact.Hour), 0
	}
	c.m[k] = h
	c.bytes += size
}

// setsNeed is what of an hour's sets a count needs, by the cuts its
// buckets and range make in the hour.
type setsNeed int

const (
	needHour     setsNeed = iota // whole hours only
	needQuarters                 // cuts on quarter hours
	needPanes                    // cuts elsewhere
)

// readExact returns the exact sets of the hours from first to last (Unix
// seconds, hour starts), by hour; an hour without sets is absent. An hour
// is read with its own and its quarters' sets alone (exact.HourName)
// unless it needs its panes': cut off quarters, or on quarters in a lake
// written before quarters' sets were (then exact.Name).
func (s *Server) readExact(ctx context.Context, digest string, first, last int64, need map[int64]setsNeed) (map[int64]*exact.Hour, error) {
	out := make(map[int64]*exact.Hour, (last-first)/3600+1)
	for h := first; h <= last; h += 3600 {
		var eh *exact.Hour
		var err error
		if need[h] != needPanes {
			if eh, err = s.readSets(ctx, setsKey{hour: h, digest: digest}); err != nil {
				return nil, err
			}
		}
		if need[h] == needPanes || (need[h] == needQuarters && eh != nil && !eh.HasQuarters()) {
			if eh, err = s.readSets(ctx, setsKey{hour: h, panes: true, digest: digest}); err != nil {
				return nil, err
			}
		}
		if eh != nil {
			out[h] = eh
		}
	}
	return out, nil
}

// readSets returns the sets k names, from the cache or the lake; nil
// when the lake has none.
func (s *Server) readSets(ctx context.Context, k setsKey) (*exact.Hour, error) {
	if eh, ok := s.sets.get(k); ok {
		return eh, nil
	}
	name := exact.HourName(time.Unix(k.hour, 0))
	if k.panes {
		name = exact.Name(time.Unix(k.hour, 0))
	}
	data, err := s.sql.ReadState(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("exact sets: %w", err)
	}
	var eh *exact.Hour
	if data != nil {
		if eh, err = exact.Decode(data); err != nil {
			return nil, fmt.Errorf("exact sets %s: %w", name, err)
		}
	}
	s.sets.put(k, eh, len(data))
	return eh, nil
}
