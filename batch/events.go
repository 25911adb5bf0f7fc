package batch

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// The views counted from events (views.CountEvents: clusters, ...) are
// not GROUP BYs: a micro-cluster state depends on the order of its
// points. So batch reads the hour's parsed rows in partition and offset
// order, the order speed applied them in, and folds them with the views'
// own Add per pane and partition; a pane's state is the merge of its
// partitions' states, in partition order. For a pane speed saw whole and
// without late events, the result is speed's, bit for bit. A new view of
// that kind needs nothing here: its Spec names the columns its Add reads.

// sqlEventRows lists the rows of an hour's files (argument 1: the DuckDB
// list literal of the files; 2: the columns read) in partition and offset
// order. Parse errors are left out, as views.Pane.Add leaves them.
const sqlEventRows = `
SELECT epoch_us(ts), "partition", "offset"%[2]s
FROM read_parquet(%[1]s, hive_partitioning = false, union_by_name = true)
WHERE parse_error = ''
ORDER BY "partition", "offset"`

// eventColumn returns the SQL that reads column col and where its value
// goes in ev (fields: the JSON text, decoded after the scan). A view whose
// Add reads a column not listed here is refused by hourEvents.
func eventColumn(col string, ev *event.Event, fields *string) (string, any, bool) {
	text := func(p *string) (string, any, bool) { return fmt.Sprintf(`coalesce(%q, '')`, col), p, true }
	switch col {
	case event.ColLatencyMS:
		return `coalesce(latency_ms, 0)`, &ev.LatencyMS, true
	case event.ColBytes:
		return `coalesce(bytes, 0)`, &ev.Bytes, true
	case event.ColStatus:
		return `coalesce(status, 0)`, &ev.Status, true
	case event.ColFields:
		return text(fields)
	case event.ColPath:
		return text(&ev.Path)
	case event.ColMethod:
		return text(&ev.Method)
	case event.ColHost:
		return text(&ev.Host)
	case event.ColInstance:
		return text(&ev.Instance)
	case event.ColLevel:
		return text(&ev.Level)
	}
	return "", nil, false
}

// hourEvents replaces, in every pane of panes, the state of each
// CountEvents view by the one folded from the hour's files.
func (b *Batch) hourEvents(ctx context.Context, conn *sql.Conn, files []string, panes map[time.Time]*views.Pane) error {
	specs := views.Counted(views.CountEvents)
	if len(specs) == 0 {
		return nil
	}
	ps := views.PaneSpec{Clusters: b.cfg.clusters} // nil (a Batch built without New, tests): the default
	proto := views.NewPaneOf(ps, time.Unix(0, 0))
	var ev event.Event
	var fields string
	var cols []string
	dest := []any{new(int64), new(int32), new(int64)} // ts, partition, offset
	for _, sp := range specs {
		for _, c := range sp.Columns(proto) {
			if slices.Contains(cols, c) {
				continue
			}
			sel, d, ok := eventColumn(c, &ev, &fields)
			if !ok {
				return fmt.Errorf("view %s: batch cannot read column %q", sp.Name, c)
			}
			cols = append(cols, sel)
			dest = append(dest, d)
		}
	}
	list := ""
	if len(cols) > 0 {
		list = ", " + strings.Join(cols, ", ")
	}
	type key struct {
		pane int64
		part int32
	}
	parts := map[key]*views.Pane{}
	us, part, off := dest[0].(*int64), dest[1].(*int32), dest[2].(*int64)
	err := query(ctx, conn, fmt.Sprintf(sqlEventRows, sqlStringList(files), list), func(rows *sql.Rows) error {
		ev, fields = event.Event{}, ""
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if fields != "" {
			if err := json.Unmarshal([]byte(fields), &ev.Fields); err != nil {
				return fmt.Errorf("partition %d offset %d: fields %q: %w", *part, *off, fields, err)
			}
		}
		ev.Time = time.UnixMicro(*us).UTC()
		start := ev.Time.Truncate(b.cfg.Pane) // as hour_rows' pane_us
		k := key{start.Unix(), *part}
		p := parts[k]
		if p == nil {
			if panes[start] == nil {
				return fmt.Errorf("pane %s has no traffic row", start.Format(time.RFC3339))
			}
			p = views.NewPaneOf(ps, start)
			parts[k] = p
		}
		for _, sp := range specs {
			sp.Add(p, &ev)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("views %s: %w", strings.Join(specNames(specs), ", "), err)
	}
	keys := make([]key, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.pane != b.pane {
			return int(a.pane - b.pane)
		}
		return int(a.part - b.part)
	})
	for t, p := range panes {
		for _, sp := range specs {
			sp.Fresh(p, ps, t)
		}
	}
	for _, k := range keys {
		p := panes[time.Unix(k.pane, 0).UTC()]
		for _, sp := range specs {
			sp.Merge(p, parts[k])
		}
	}
	return nil
}

// specNames lists the names of specs.
func specNames(specs []views.Spec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}
