package lake

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RemoveOrphans deletes every Parquet or temp file under the lake that the
// manifest does not name (left by a run that crashed before saving the
// manifest, or by a merge that crashed before deleting its inputs), and,
// in a local lake, hour directories left empty; in object storage it also
// aborts the incomplete multipart uploads of a writer killed in the middle
// of a large file (invisible to readers, but stored and billed until
// aborted). It returns the removed paths, relative to the topic directory
// (an aborted upload's with " (incomplete upload)"). Without it a crashed
// run's files would be read twice by anyone globbing the lake. It runs
// under the writer's lock, before the run writes anything, so every
// upload it finds is a dead writer's.
func (l *Lake) RemoveOrphans(ctx context.Context, m *Manifest) ([]string, error) {
	started := time.Now()
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	known := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		known[f.Path] = true
	}
	objs, err := l.store.List(ctx, l.topic+"/")
	if err != nil {
		return nil, fmt.Errorf("remove orphans under %s/%s: %w", l.store, l.topic, err)
	}
	var removed []string
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, l.topic+"/")
		name := rel[strings.LastIndex(rel, "/")+1:]
		orphan := strings.HasSuffix(name, tempSuffix) ||
			(strings.HasSuffix(name, ".parquet") && !known[rel])
		if orphan {
			removed = append(removed, rel)
		}
	}
	// No manifest beside Parquet files means the manifest was lost or
	// deleted, not that every file is an orphan: refuse to empty the lake.
	// (Compaction saves an empty manifest before the first file of a new
	// lake, so files of a first run that crashed are orphans of that one.)
	has, err := l.HasManifest(ctx)
	if err != nil {
		return nil, fmt.Errorf("remove orphans under %s/%s: %w", l.store, l.topic, err)
	}
	if !has {
		for _, rel := range removed {
			if strings.HasSuffix(rel, ".parquet") {
				return nil, fmt.Errorf("lake %s/%s has Parquet files (%s) but no manifest: restore %s or move the files away", l.store, l.topic, rel, ManifestName)
			}
		}
	}
	for i, rel := range removed {
		if err := l.Remove(ctx, rel); err != nil {
			return removed[:i], fmt.Errorf("remove orphan %s: %w", rel, err)
		}
	}
	if l.dir != "" {
		removeEmptyDirs(l.dir)
		return removed, nil
	}
	aborted, err := l.store.AbortUploads(ctx, l.topic+"/", started)
	for _, k := range aborted {
		removed = append(removed, strings.TrimPrefix(k, l.topic+"/")+" (incomplete upload)")
	}
	if err != nil {
		return removed, fmt.Errorf("remove orphans under %s/%s: %w", l.store, l.topic, err)
	}
	return removed, nil
}

// removeEmptyDirs removes the empty directories under dir, deepest first,
// so hour=HH goes before its dt=... parent.
func removeEmptyDirs(dir string) {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != dir {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i]) // fails, as wanted, unless empty
	}
}
