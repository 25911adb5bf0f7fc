package batch

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
)

// finished reports whether hour h will get no more rows in the normal
// course: its end plus the grace is before the newest event time of every
// partition that has data and is not quiet. Only then are its files merged, so that a
// merged hour rarely gets a new small file again.
func finished(m *lake.Manifest, h time.Time, grace time.Duration) bool {
	limit := h.Add(time.Hour + grace)
	seen := false
	for _, ps := range m.Partitions {
		if ps.MaxEventTime.IsZero() {
			continue
		}
		seen = true
		if ps.Blocks(limit) {
			return false
		}
	}
	return seen
}

// mergeFinished merges the small files of each finished hour into one file
// per partition: new files written first, then the manifest saved, then
// the old files deleted, so a crash leaves orphans (removed next run) and
// never a row twice.
func (b *Batch) mergeFinished(ctx context.Context, m *lake.Manifest, sum *CompactSummary) error {
	if b.cfg.mergeBelow == 0 {
		return nil
	}
	hours, files := m.HourFiles()
	type group struct {
		hour      time.Time
		partition int32
		files     []lake.File
	}
	var groups []group
	for _, h := range hours {
		if !finished(m, h, b.cfg.grace) {
			continue
		}
		// Files decoded with other ingest rules are not merged together:
		// a merged file has one set of rules (re-parse replaces the
		// others' files).
		type key struct {
			partition int32
			rules     string
		}
		byPart := map[key][]lake.File{}
		for _, f := range files[h] {
			if f.Bytes < b.cfg.mergeBelow {
				k := key{f.Partition, f.Rules}
				byPart[k] = append(byPart[k], f)
			}
		}
		for k, fs := range byPart {
			if len(fs) > 1 {
				sort.Slice(fs, func(i, j int) bool { return fs[i].FirstOffset < fs[j].FirstOffset })
				groups = append(groups, group{h, k.partition, fs})
			}
		}
	}
	if len(groups) == 0 {
		return nil
	}
	sort.Slice(groups, func(i, j int) bool {
		if !groups[i].hour.Equal(groups[j].hour) {
			return groups[i].hour.Before(groups[j].hour)
		}
		if groups[i].partition != groups[j].partition {
			return groups[i].partition < groups[j].partition
		}
		return groups[i].files[0].Rules < groups[j].files[0].Rules
	})

	var obsolete []string
	taken := map[string]bool{}
	for _, g := range groups {
		first, last := g.files[0].FirstOffset, g.files[0].LastOffset
		var in []string
		var rows, parseErrors int64
		for _, f := range g.files {
			in = append(in, f.Path)
			rows += f.Rows
			parseErrors += f.ParseErrors
			first, last = min(first, f.FirstOffset), max(last, f.LastOffset)
		}
		// Re-parsed files of an hour can overlap others' offsets: the
		// merged file must not take the name of a file it does not
		// replace, nor of one it does (it is deleted after the save).
		rel := m.FreePath(lake.FilePath(g.hour, g.partition, first, last), taken)
		taken[rel] = true
		size, got, err := b.lake.Merge(ctx, rel, in)
		if err != nil {
			return fmt.Errorf("merge hour %s partition %d (%d files): %w", g.hour.Format(time.RFC3339), g.partition, len(in), err)
		}
		if got != rows {
			b.lake.Remove(ctx, rel)
			return fmt.Errorf("merge hour %s partition %d: merged %d rows, manifest says %d", g.hour.Format(time.RFC3339), g.partition, got, rows)
		}
		m.ReplaceFiles(in, lake.File{Path: rel, Partition: g.partition, FirstOffset: first, LastOffset: last,
			Rows: rows, ParseErrors: parseErrors, Bytes: size, Hour: g.hour, Rules: g.files[0].Rules})
		obsolete = append(obsolete, in...)
		sum.FilesMerged += len(in)
		sum.MergedFiles++
	}
	if err := b.lake.SaveManifest(ctx, m); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	for _, p := range obsolete {
		if err := b.lake.Remove(ctx, p); err != nil {
			// The manifest no longer names it: the next run removes it.
			b.cfg.Logger.Warn("remove merged file", "path", p, "err", err)
		}
	}
	return nil
}
