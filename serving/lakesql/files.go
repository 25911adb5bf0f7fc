package lakesql

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNoLake is returned when the topic has no lake files yet: there is
// nothing to query until `loglambda batch compact` writes some.
var ErrNoLake = errors.New("no lake")

// manifestName is the manifest's file name in the topic directory.
const manifestName = "_manifest.json"

// manifestVersion is the manifest version this package understands; a
// newer one may mean something else by "files", so it is refused.
const manifestVersion = 1

// manifest is the part of batch's manifest SQL needs: which files are the
// lake. The rest (offsets, hour states) is batch's business.
type manifest struct {
	Version int    `json:"version"`
	Topic   string `json:"topic"`
	Files   []struct {
		Path string `json:"path"`
	} `json:"files"`
}

// topicDir returns the lake directory of topic, refusing topics that are
// not a single directory name (so a topic cannot point outside the lake).
func topicDir(root, topic string) (string, error) {
	if topic == "" || topic == "." || topic == ".." || strings.ContainsAny(topic, `/\`) {
		return "", fmt.Errorf("topic %q is not a valid directory name", topic)
	}
	abs, err := filepath.Abs(filepath.Join(root, topic))
	if err != nil {
		return "", fmt.Errorf("lake %s: %w", root, err)
	}
	return abs, nil
}

// lakeFiles returns the absolute paths of the lake's Parquet files of
// topic, sorted: the manifest's list when there is a manifest, else every
// dt=*/hour=*/*.parquet file. It returns an error wrapping ErrNoLake when
// there are none.
func lakeFiles(root, topic string) ([]string, error) {
	dir, err := topicDir(root, topic)
	if err != nil {
		return nil, err
	}
	noLake := func(why string) error {
		return fmt.Errorf("%w for topic %q under %s (%s): write one with `loglambda batch compact --lake %s --topic %s`",
			ErrNoLake, topic, root, why, root, topic)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, noLake(dir + " does not exist")
	}
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		files, err := filepath.Glob(filepath.Join(dir, "dt=*", "hour=*", "*.parquet"))
		if err != nil {
			return nil, fmt.Errorf("list lake %s: %w", dir, err)
		}
		if len(files) == 0 {
			return nil, noLake("no Parquet files and no manifest")
		}
		sort.Strings(files)
		return files, nil
	case err != nil:
		return nil, fmt.Errorf("read lake manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read lake manifest %s: %w", filepath.Join(dir, manifestName), err)
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("read lake manifest %s: version %d, this loglambda reads version %d", filepath.Join(dir, manifestName), m.Version, manifestVersion)
	}
	if m.Topic != topic {
		return nil, fmt.Errorf("read lake manifest %s: topic %q, want %q", filepath.Join(dir, manifestName), m.Topic, topic)
	}
	files := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		rel := filepath.FromSlash(f.Path)
		// A manifest path leaving the topic directory would widen what
		// the query may read (allowed_paths) beyond the lake.
		if !filepath.IsLocal(rel) || !strings.HasSuffix(rel, ".parquet") {
			return nil, fmt.Errorf("read lake manifest %s: file %q is not a Parquet file inside the topic directory", filepath.Join(dir, manifestName), f.Path)
		}
		files = append(files, filepath.Join(dir, rel))
	}
	if len(files) == 0 {
		return nil, noLake("the manifest lists no files")
	}
	sort.Strings(files)
	return files, nil
}
