package batch

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/event"
)

// Re-parsing: the lake keeps every record's raw line, so a new generation
// of the ingest rules (default format, hot term, visitor field) reaches
// the past by decoding the rows again. Recompute reads the lake's parsed
// columns, as does serving's SQL and its exact distinct counts, so the
// lake's columns themselves are rewritten, not re-parsed on the fly: every
// reader then sees one set of rules, and a row whose event time moves
// under the new rules moves to its new hour's files.
//
// Each file records the rules its rows were decoded with (lake.File.Rules,
// ingest.Rules.ID). Before a recompute, the files under other rules are
// decoded again through ingest's Decoder (DecodeStored: the one decode of
// speed and batch) into new files, named so that they replace no file the
// manifest names; then, one source hour at a time, the manifest swaps the
// old files for the new (a single atomic save, as a merge's), and the old
// ones are deleted. A kill before the save leaves the new files orphans
// (the next compaction removes them) and the old lake whole; after it,
// the old files are the orphans. The next run goes on with the files still
// under the old rules, so a killed re-parse is completed, never doubled.

// ReparseSummary reports the files decoded again under the layer's rules.
type ReparseSummary struct {
	// Files replaced and Written in their place; Rows decoded again, of
	// which ParseErrors did not parse under the new rules.
	Files       int   `json:"files"`
	Written     int   `json:"written"`
	Rows        int64 `json:"rows"`
	ParseErrors int64 `json:"parse_errors"`
}

// stampRules sets the rules of files written before lake files recorded
// them: they were decoded with this layer's rules when the lake's views
// generation is the layer's (the contract kept the rules), else with
// unknown ones, which stay "" and are re-parsed. It must run before
// newGeneration moves the manifest to the layer's generation.
func (b *Batch) stampRules(m *lake.Manifest) {
	if collections.CurrentGeneration(m.Generation) != b.generation() {
		return
	}
	id := b.rules.ID()
	for i := range m.Files {
		if m.Files[i].Rules == "" {
			m.Files[i].Rules = id
		}
	}
}

// reparse decodes again every file of m whose rows were decoded with other
// ingest rules than the layer's, and saves the manifest once per source
// hour; see above.
func (b *Batch) reparse(ctx context.Context, m *lake.Manifest) (ReparseSummary, error) {
	var sum ReparseSummary
	b.stampRules(m)
	id := b.rules.ID()
	byHour := map[time.Time][]lake.File{}
	var hours []time.Time
	for _, f := range m.Files {
		if f.Rules == id {
			continue
		}
		h := lake.Hour(f.Hour)
		if byHour[h] == nil {
			hours = append(hours, h)
		}
		byHour[h] = append(byHour[h], f)
	}
	if len(hours) == 0 {
		return sum, nil
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].Before(hours[j]) })
	n := 0
	for _, fs := range byHour {
		n += len(fs)
	}
	b.cfg.Logger.Warn("the lake's rows were decoded with other ingest rules: re-parsing their raw lines", "files", n,
		"hours", len(hours), "rules", id)
	// The pattern miners' state holds what they mined of the old
	// messages: mine the lake again from its start. Removed before any
	// file changes, so a kill in between still mines afresh.
	if err := b.lake.Remove(ctx, patternsStateName); err != nil {
		return sum, fmt.Errorf("reparse: remove %s: %w", patternsStateName, err)
	}
	bar := b.newProgress(int64(n), "re-parse files")
	defer bar.finish()
	for _, h := range hours {
		taken := map[string]bool{}
		var written []lake.File
		for _, f := range byHour[h] {
			out, rows, perr, err := b.reparseFile(ctx, m, f, taken)
			if err != nil {
				b.dropWritten(ctx, written)
				return sum, fmt.Errorf("reparse hour %s: %w", h.Format(time.RFC3339), err)
			}
			written = append(written, out...)
			sum.Rows += rows
			sum.ParseErrors += perr
			bar.add(1)
		}
		if b.cfg.afterReparse != nil {
			if err := b.cfg.afterReparse(); err != nil {
				return sum, err // as a kill: the written files are orphans
			}
		}
		m.SwapFiles(byHour[h], written)
		if err := b.lake.SaveManifest(ctx, m); err != nil {
			return sum, fmt.Errorf("reparse hour %s: %w", h.Format(time.RFC3339), err)
		}
		for _, f := range byHour[h] {
			if err := b.lake.Remove(ctx, f.Path); err != nil {
				// The manifest no longer names it: the next compaction
				// removes it.
				b.cfg.Logger.Warn("remove re-parsed file", "path", f.Path, "err", err)
			}
		}
		sum.Files += len(byHour[h])
		sum.Written += len(written)
	}
	b.cfg.Logger.Info("lake re-parsed under the ingest rules", "files", sum.Files, "written", sum.Written,
		"rows", sum.Rows, "parse_errors", sum.ParseErrors, "rules", id)
	return sum, nil
}

// reparseFile decodes the rows of f again into new files of f's
// partition, one per event hour of the new rows, and returns them with
// the rows read and their parse errors. The new files' paths are free in
// m and taken (which it extends). A row count that differs from the
// manifest's is an error: the manifest is the lake.
func (b *Batch) reparseFile(ctx context.Context, m *lake.Manifest, f lake.File, taken map[string]bool) ([]lake.File, int64, int64, error) {
	dec := b.rules.NewDecoder()
	id := b.rules.ID()
	type out struct {
		s           *lake.Stream
		first, last int64
		rows, perr  int64
	}
	open := map[time.Time]*out{}
	var files []lake.File
	// commit closes the file of hour h. Past maxOpen files the earliest
	// hour's is committed early, as compaction does, and a later row of
	// that hour starts another file (FreePath names it).
	commit := func(h time.Time) error {
		o := open[h]
		delete(open, h)
		rel := m.FreePath(lake.FilePath(h, f.Partition, o.first, o.last), taken)
		taken[rel] = true
		rel, size, err := o.s.CommitTo(ctx, rel)
		if err != nil {
			return err
		}
		files = append(files, lake.File{Path: rel, Partition: f.Partition, FirstOffset: o.first, LastOffset: o.last,
			Rows: o.rows, ParseErrors: o.perr, Bytes: size, Hour: h, Rules: id})
		return nil
	}
	earliest := func() time.Time {
		var e time.Time
		for h := range open {
			if e.IsZero() || h.Before(e) {
				e = h
			}
		}
		return e
	}
	ps := m.Partition(f.Partition)
	var rows, perr int64
	err := b.lake.ScanFile(ctx, f.Path, func(stored *event.Event) error {
		ev := &event.Event{}
		dec.DecodeStored(ev, stored)
		rows++
		h := lake.Hour(ev.Time)
		o := open[h]
		if o == nil {
			if len(open) >= maxOpen {
				if err := commit(earliest()); err != nil {
					return err
				}
			}
			st, err := b.lake.CreateStream(h, f.Partition, ev.Offset)
			if err != nil {
				return err
			}
			o = &out{s: st, first: ev.Offset, last: ev.Offset}
			open[h] = o
		}
		if err := o.s.Append(ev); err != nil {
			return fmt.Errorf("offset %d: %w", ev.Offset, err)
		}
		o.first, o.last = min(o.first, ev.Offset), max(o.last, ev.Offset)
		o.rows++
		if ev.ParseError != "" {
			o.perr++
			perr++
		}
		if !ev.TimeMissing && ev.Time.After(ps.MaxEventTime) {
			ps.MaxEventTime = ev.Time
		}
		return nil
	})
	if err == nil && rows != f.Rows {
		err = fmt.Errorf("%s has %d rows, the manifest says %d", f.Path, rows, f.Rows)
	}
	for err == nil && len(open) > 0 {
		err = commit(earliest())
	}
	if err != nil {
		for h, o := range open {
			o.s.Abort()
			delete(open, h)
		}
		b.dropWritten(ctx, files)
		return nil, 0, 0, fmt.Errorf("reparse %s: %w", f.Path, err)
	}
	return files, rows, perr, nil
}

// dropWritten deletes files a failed re-parse wrote (no manifest names
// them; what it cannot delete the next compaction's orphan sweep does).
func (b *Batch) dropWritten(ctx context.Context, files []lake.File) {
	for _, f := range files {
		if err := b.lake.Remove(ctx, f.Path); err != nil {
			b.cfg.Logger.Warn("remove file of a failed re-parse", "path", f.Path, "err", err)
		}
	}
}
