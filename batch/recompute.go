package batch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/exact"
	"github.com/loglambda/loglambda/schemas/views"
)

// RecomputeSummary reports what a recompute did.
type RecomputeSummary struct {
	// Hours recomputed (starts, UTC), of which DirtyHours had been
	// recomputed before and got late rows.
	Hours      []time.Time `json:"hours"`
	DirtyHours int         `json:"dirty_hours"`
	// Reparse is the files decoded again under the layer's ingest rules
	// before the recompute (reparse.go).
	Reparse ReparseSummary `json:"reparse"`
	// Panes and Docs written over all hours.
	Panes int `json:"panes"`
	Docs  int `json:"docs"`
	// PatternRows is the number of rows the pattern miners read: the rows
	// compacted since they last ran (see minePatterns).
	PatternRows int64 `json:"pattern_rows"`
	// Horizon is the end of the contiguous recomputed hours.
	Horizon time.Time `json:"horizon"`
	// SpeedDocsDeleted counts the speed view documents deleted behind the
	// horizon (SpeedMargin).
	SpeedDocsDeleted int64   `json:"speed_docs_deleted"`
	Seconds          float64 `json:"seconds"`
}

// Recompute rebuilds the batch views of every complete hour that is new or
// dirty, with DuckDB over the hour's lake files, and moves the horizon.
func (b *Batch) Recompute(ctx context.Context) (RecomputeSummary, error) {
	return locked(ctx, b.lake, b.recompute)
}

// newGeneration starts the recompute of every hour of the lake when the
// manifest's hours were recomputed under another views' generation than
// the layer's (--new-generation): their Recomputed are cleared and the
// manifest takes the new generation, saved before any document is
// written, so a kill in between still recomputes them all.
func (b *Batch) newGeneration(ctx context.Context, m *lake.Manifest) error {
	gen := collections.CurrentGeneration(b.cfg.Generation)
	if collections.CurrentGeneration(m.Generation) == gen {
		return nil
	}
	n := 0
	for _, hs := range m.Hours {
		if hs != nil && !hs.Recomputed.IsZero() {
			hs.Recomputed, hs.Dirty = time.Time{}, false
			n++
		}
	}
	b.cfg.Logger.Warn("a new generation of the views: every hour of the lake is recomputed", "hours", n,
		"was", collections.CurrentGeneration(m.Generation), "generation", gen)
	m.Generation = gen
	if err := b.lake.SaveManifest(ctx, m); err != nil {
		return fmt.Errorf("recompute: new generation %d: %w", gen, err)
	}
	return nil
}

func (b *Batch) recompute(ctx context.Context) (RecomputeSummary, error) {
	start := time.Now()
	sum := RecomputeSummary{Hours: []time.Time{}}
	if b.db == nil {
		return sum, errors.New("recompute: no MongoDB database")
	}
	m, err := b.lake.LoadManifest(ctx)
	if err != nil {
		return sum, err
	}
	// Before newGeneration: files written before their rules were
	// recorded are known by the manifest's generation (stampRules).
	if sum.Reparse, err = b.reparse(ctx, m); err != nil {
		return sum, fmt.Errorf("recompute: %w", err)
	}
	if err := b.newGeneration(ctx, m); err != nil {
		return sum, err
	}
	if _, err := b.recheckStore(ctx, m); err != nil {
		return sum, fmt.Errorf("recompute: %w", err)
	}
	now := b.cfg.now().UTC()
	hours, files := m.HourFiles()
	var todo []time.Time
	for _, h := range hours {
		hs := m.Hours[h]
		if (hs == nil || hs.Recomputed.IsZero() || hs.Dirty) && b.complete(m, h, now) {
			todo = append(todo, h)
		}
	}

	b.setPending(todo)
	// The pattern miners follow the lake at every run with new rows, hours
	// to do or not, so each run mines what compaction just added.
	mining, why := b.loadMiningState(ctx, m)
	if len(todo) > 0 || mining.unmined(m) {
		conn, closeDuck, err := duckConn(ctx)
		if err != nil {
			return sum, fmt.Errorf("recompute: %w", err)
		}
		defer closeDuck()
		pats, mined, err := b.minePatterns(ctx, conn, m, mining, why, todo)
		sum.PatternRows = mined
		if err != nil {
			return sum, fmt.Errorf("recompute: %w", err)
		}
		if err := b.ids.catchUp(ctx, b.lake); err != nil {
			return sum, fmt.Errorf("recompute: %w", err)
		}
		bar := b.newProgress(int64(len(todo)), "recompute hours")
		tiers := newTierRun(m)
		for _, h := range todo {
			paths, release, err := b.lake.Fetch(ctx, files[h])
			if err != nil {
				bar.finish()
				return sum, fmt.Errorf("recompute hour %s: %w", h.Format(time.RFC3339), err)
			}
			ex := newExactHour(&b.ids, b.cfg.Pane)
			panes, err := b.hourPanes(ctx, conn, paths, ex)
			release()
			if err != nil {
				b.ids.forget()
				bar.finish()
				return sum, fmt.Errorf("recompute hour %s (%d files): %w", h.Format(time.RFC3339), len(paths), err)
			}
			for t, p := range panes {
				if st := pats[t]; st != nil {
					p.Patterns = st
				}
			}
			hs := m.Hours[h]
			docs, err := b.writeHour(ctx, h, panes, now, hs == nil || hs.Recomputed.IsZero())
			if err == nil {
				// The hour and day tiers too, before the hour is
				// recorded: a kill after the record would leave them
				// without this hour (no later run recomputes a recorded
				// hour).
				err = b.writeTiers(ctx, tiers, h, panes, now)
			}
			if err == nil {
				// The exact sets too, before the hour is recorded.
				var sets *exact.Hour
				if sets, err = ex.hour(h, panes); err == nil {
					err = b.writeExact(ctx, sets)
				}
			}
			if err != nil {
				b.ids.forget()
				bar.finish()
				return sum, fmt.Errorf("recompute hour %s: %w", h.Format(time.RFC3339), err)
			}
			// Record the hour only after its documents and tiers are in: a
			// crash in between recomputes it again, which replaces the
			// same docs.
			hs = m.Hour(h)
			if hs.Dirty {
				sum.DirtyHours++
			}
			hs.Recomputed, hs.Dirty = now, false
			if err := b.lake.SaveManifest(ctx, m); err != nil {
				bar.finish()
				return sum, fmt.Errorf("recompute hour %s: %w", h.Format(time.RFC3339), err)
			}
			sum.Hours = append(sum.Hours, h)
			b.setPending(todo[len(sum.Hours):])
			sum.Panes += len(panes)
			sum.Docs += docs
			bar.add(1)
		}
		bar.finish()
	}

	sum.Horizon = b.horizon(m, now)
	if err := b.writeHorizonDoc(ctx, m, sum.Horizon); err != nil {
		return sum, err
	}
	if err := b.writeLakeDoc(ctx, m); err != nil {
		return sum, err
	}
	// After the horizon doc: serving then already answers those panes
	// from batch.
	if sum.SpeedDocsDeleted, err = b.deleteSpeedDocs(ctx, sum.Horizon); err != nil {
		return sum, fmt.Errorf("recompute: %w", err)
	}
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}

// hourPanes computes the batch panes of one hour from its files.
//
// ex, when not nil, collects each pane's exact sets of visitors and IPs
// from the same distinct ids.
func (b *Batch) hourPanes(ctx context.Context, conn *sql.Conn, files []string, ex *exactHour) (map[time.Time]*views.Pane, error) {
	var withUV int
	if err := conn.QueryRowContext(ctx, fmt.Sprintf(sqlHasUV, sqlStringList(files))).Scan(&withUV); err != nil {
		return nil, fmt.Errorf("read parquet schema: %w", err)
	}
	if _, err := conn.ExecContext(ctx, hourRowsSQL(b.cfg.Pane.Microseconds(), files, withUV > 0)); err != nil {
		return nil, fmt.Errorf("read parquet: %w", err)
	}
	panes := map[time.Time]*views.Pane{}
	pane := func(us int64) *views.Pane {
		t := time.UnixMicro(us).UTC()
		p := panes[t]
		if p == nil {
			p = views.NewPaneOf(views.PaneSpec{Clusters: b.cfg.clusters}, t)
			p.Traffic.HasExact = true
			panes[t] = p
		}
		return p
	}
	// Traffic first: it has a row for every pane with parsed rows, so the
	// set of panes is the set of documents, hot terms or not.
	err := query(ctx, conn, sqlTraffic, func(rows *sql.Rows) error {
		var us, pv, uv, ips, bytes int64
		var s [6]int64
		if err := rows.Scan(&us, &pv, &uv, &ips, &s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &bytes); err != nil {
			return err
		}
		t := pane(us).Traffic
		t.PV, t.ExactUV, t.ExactIPs, t.Status, t.Bytes = pv, uv, ips, s, bytes
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	// perPane runs q, whose rows hold a pane's start and then the columns
	// scanned into dest, and calls add with each row's pane, which the
	// traffic query must have made.
	perPane := func(name, q string, add func(p *views.Pane) error, dest ...any) error {
		var us int64
		cols := append([]any{&us}, dest...)
		err := query(ctx, conn, q, func(rows *sql.Rows) error {
			if err := rows.Scan(cols...); err != nil {
				return err
			}
			p := panes[time.UnixMicro(us).UTC()]
			if p == nil {
				return fmt.Errorf("%s: pane %s has no traffic row", name, time.UnixMicro(us).UTC().Format(time.RFC3339))
			}
			return add(p)
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	var n, bucket int64
	var term string
	var k views.LevelKey
	var total float64
	if err := perPane("hot", sqlHot, func(p *views.Pane) error { p.Hot.AddN(term, n); return nil }, &term, &n); err != nil {
		return nil, err
	}
	if err := perPane("levels", sqlLevels, func(p *views.Pane) error { p.Levels.AddN(k, n); return nil }, &k.Instance, &k.Level, &n); err != nil {
		return nil, err
	}
	err = perPane("latency", sqlLatency, func(p *views.Pane) error {
		if bucket < 0 || int(bucket) >= len(p.Traffic.Latency) {
			return fmt.Errorf("latency bucket %d out of range", bucket)
		}
		p.Traffic.Latency[bucket] += n
		p.Traffic.LatencySum += total
		return nil
	}, &bucket, &n, &total)
	if err != nil {
		return nil, err
	}
	// The distinct ids feed the sketches; their number must be the exact
	// count DuckDB gave, or the two queries disagree on what an id is.
	for _, q := range []struct {
		name string
		sql  string
		add  func(p *views.Pane, id string)
		want func(p *views.Pane) int64
	}{
		{"uv ids", sqlUVIDs, func(p *views.Pane, id string) {
			p.Traffic.UV.Insert([]byte(id))
			if ex != nil {
				ex.add(ex.uv, p, id)
			}
		}, func(p *views.Pane) int64 { return p.Traffic.ExactUV }},
		{"ips", sqlIPs, func(p *views.Pane, id string) {
			p.Traffic.IPs.Insert([]byte(id))
			if ex != nil {
				ex.add(ex.ips, p, id)
			}
		}, func(p *views.Pane) int64 { return p.Traffic.ExactIPs }},
	} {
		counts := map[*views.Pane]int64{}
		var id string
		if err := perPane(q.name, q.sql, func(p *views.Pane) error { q.add(p, id); counts[p]++; return nil }, &id); err != nil {
			return nil, err
		}
		for t, p := range panes {
			if counts[p] != q.want(p) {
				return nil, fmt.Errorf("%s: pane %s has %d distinct ids, count says %d", q.name, t.Format(time.RFC3339), counts[p], q.want(p))
			}
		}
	}
	if err := b.hourEvents(ctx, conn, files, panes); err != nil {
		return nil, err
	}
	return panes, nil
}

// duckMemoryLimit bounds the DuckDB of a batch run, which shares the
// process with speed and serving under up: without it DuckDB takes up to
// 80 % of the machine's memory, and the first run after a 24 h backfill
// (the pattern miners' rows of the whole lake in offset order) took up
// to 4 GB resident beside a Go heap of 0.8 GB. Over the limit a sort
// spills to duckTempDir instead.
const duckMemoryLimit = "512MB"

// duckTempDir is where DuckDB spills: a directory of the system's
// temporary space (not the lake: it may be remote), made by duckConn.
func duckTempDir() string { return filepath.Join(os.TempDir(), "loglambda-batch-duckdb") }

// duckConn opens an in-memory DuckDB and one connection to it: the temp
// view the queries of an hour read (hour_rows) lives in one connection.
// closeDuck closes both.
func duckConn(ctx context.Context) (conn *sql.Conn, closeDuck func(), err error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, nil, fmt.Errorf("open duckdb: %w", err)
	}
	if conn, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("duckdb connection: %w", err)
	}
	tmp := duckTempDir()
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		conn.Close()
		db.Close()
		return nil, nil, fmt.Errorf("duckdb temp directory: %w", err)
	}
	set := fmt.Sprintf("SET memory_limit = '%s'; SET temp_directory = '%s'", duckMemoryLimit, strings.ReplaceAll(tmp, "'", "''"))
	if _, err := conn.ExecContext(ctx, set); err != nil {
		conn.Close()
		db.Close()
		return nil, nil, fmt.Errorf("duckdb settings %q: %w", set, err)
	}
	return conn, func() { conn.Close(); db.Close() }, nil
}

// query runs q and calls row for each result row.
func query(ctx context.Context, conn *sql.Conn, q string, row func(*sql.Rows) error) error {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sortedPanes returns the pane starts in order.
func sortedPanes(panes map[time.Time]*views.Pane) []time.Time {
	out := make([]time.Time, 0, len(panes))
	for t := range panes {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}
