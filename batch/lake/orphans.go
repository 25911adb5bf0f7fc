package lake

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RemoveOrphans deletes every Parquet or temp file under the lake that the
// manifest does not name (left by a run that crashed before saving the
// manifest, or by a merge that crashed before deleting its inputs), and
// hour directories left empty. It returns the removed paths, relative to
// the topic directory. Without it a crashed run's files would be read
// twice by anyone globbing the lake.
func (l *Lake) RemoveOrphans(m *Manifest) ([]string, error) {
	known := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		known[f.Path] = true
	}
	var removed []string
	var dirs []string
	err := filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." {
				dirs = append(dirs, p)
			}
			return nil
		}
		name := d.Name()
		orphan := strings.HasSuffix(name, tempSuffix) ||
			(strings.HasSuffix(name, ".parquet") && !known[rel])
		if orphan {
			removed = append(removed, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("remove orphans under %s: %w", l.dir, err)
	}
	// No manifest beside Parquet files means the manifest was lost or
	// deleted, not that every file is an orphan: refuse to empty the lake.
	// (Compaction saves an empty manifest before the first file of a new
	// lake, so files of a first run that crashed are orphans of that one.)
	has, err := l.HasManifest()
	if err != nil {
		return nil, fmt.Errorf("remove orphans under %s: %w", l.dir, err)
	}
	if !has {
		for _, rel := range removed {
			if strings.HasSuffix(rel, ".parquet") {
				return nil, fmt.Errorf("lake %s has Parquet files (%s) but no manifest: restore %s or move the files away", l.dir, rel, ManifestName)
			}
		}
	}
	for i, rel := range removed {
		if err := os.Remove(l.Abs(rel)); err != nil {
			return removed[:i], fmt.Errorf("remove orphan %s: %w", rel, err)
		}
	}
	// Deepest first, so hour=HH goes before its dt=... parent.
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i]) // fails, as wanted, unless empty
	}
	return removed, nil
}
