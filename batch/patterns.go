package batch

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/patterns"
	"github.com/loglambda/loglambda/schemas/views"
)

// The patterns view is not a GROUP BY: an event's pattern is what its
// partition's miner says when the event arrives, and the miner depends on
// every earlier line of the partition. So batch mines as speed does: one
// miner per partition over every parsed row of the lake, in offset order
// (late rows included, as speed's miner sees them), with the same options
// and the same message rule (views.PatternMessage). The ids, absorptions
// and counts of a pane then equal speed's for every pane without late
// events (speed does not count those; batch does). The cost is a scan of
// the lake's few pattern columns, sorted by partition and offset, at every
// recompute that has hours to do.

// sqlPatternRows reads what the miner and the view need, in partition and
// offset order. raw is read only for rows with no message and no request
// (views.PatternMessage's last resort). Argument: the file list.
const sqlPatternRows = `
SELECT partition, "offset", epoch_us(ts) AS ts_us, msg, method, path, status, level, instance, host,
    CASE WHEN msg = '' AND method = '' AND path = '' THEN raw ELSE NULL END AS raw
FROM read_parquet(%s, hive_partitioning = false, union_by_name = true)
WHERE parse_error = ''
ORDER BY partition, "offset"`

// patternPanes mines every row of files and returns the patterns states
// of the panes that start within the given hours.
func (b *Batch) patternPanes(ctx context.Context, conn *sql.Conn, files []string, hours map[time.Time]bool) (map[time.Time]*views.Patterns, error) {
	out := map[time.Time]*views.Patterns{}
	if len(files) == 0 || len(hours) == 0 {
		return out, nil
	}
	var (
		tr      *patterns.Tracker
		curPart int32 = -1
		ev      event.Event
		buf     []byte
		raw     []byte
		tsUS    int64
	)
	err := query(ctx, conn, fmt.Sprintf(sqlPatternRows, sqlStringList(files)), func(rows *sql.Rows) error {
		raw = raw[:0]
		if err := rows.Scan(&ev.Partition, &ev.Offset, &tsUS, &ev.Msg, &ev.Method, &ev.Path, &ev.Status,
			&ev.Level, &ev.Instance, &ev.Host, &raw); err != nil {
			return err
		}
		if tr == nil || ev.Partition != curPart {
			tr, curPart = patterns.NewTracker(views.PatternMinerOptions), ev.Partition
		}
		ev.Raw = raw
		ev.Time = time.UnixMicro(tsUS).UTC()
		buf = views.PatternMessage(&ev, buf)
		id, tmpl, abs := tr.Add(buf)
		start := b.grid.Start(ev.Time)
		if !hours[start.Truncate(time.Hour)] {
			return nil
		}
		st := out[start]
		if st == nil {
			st = views.NewPatterns()
			out[start] = st
		}
		for _, a := range abs {
			st.Absorb(a)
		}
		st.Add(id, tmpl, &ev, buf)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("patterns: %w", err)
	}
	return out, nil
}

// minePatterns runs patternPanes over every file of the lake for the
// hours to do.
func (b *Batch) minePatterns(ctx context.Context, conn *sql.Conn, hours []time.Time, files map[time.Time][]lake.File, todo []time.Time) (map[time.Time]*views.Patterns, error) {
	var all []string
	for _, h := range hours {
		for _, f := range files[h] {
			all = append(all, b.lake.Abs(f.Path))
		}
	}
	want := make(map[time.Time]bool, len(todo))
	for _, h := range todo {
		want[h] = true
	}
	return b.patternPanes(ctx, conn, all, want)
}
