// Package lakefiles is the lake's read contract, shared by batch, which
// writes the lake, and serving's SQL, which reads it: where a topic's files
// are (<lake>/<topic>/dt=YYYY-MM-DD/hour=HH/*.parquet, in a directory or
// under an s3://bucket/prefix), the manifest's name and version, and the
// part of the manifest a reader needs (the files).
// The rest of the manifest (offsets, hour states) is batch's, in
// batch/lake.
package lakefiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/loglambda/loglambda/base/objstore"
)

// ErrNoLake is returned when the topic has no lake files yet: there is
// nothing to query until `loglambda batch compact` writes some.
var ErrNoLake = errors.New("no lake")

// ManifestName is the manifest's file name in the topic directory.
const ManifestName = "_manifest.json"

// ManifestVersion is the manifest version this loglambda writes and
// reads; it is bumped when the manifest's meaning changes, and a reader
// refuses versions it does not know rather than misreading them.
const ManifestVersion = 1

// Glob matches the lake's Parquet files relative to the topic directory:
// the Hive layout of HourDir, so that DuckDB, Spark, Trino and pandas read
// dt and hour as columns.
const Glob = "dt=*/hour=*/*.parquet"

// HourDir is the directory of an event-time hour relative to the topic
// directory, in Hive partition form: "dt=2026-11-20/hour=10".
func HourDir(hour time.Time) string {
	h := hour.UTC()
	return fmt.Sprintf("dt=%s/hour=%02d", h.Format("2006-01-02"), h.Hour())
}

// KeyHour is the event-time hour of a lake file from its path relative to
// the topic directory (the dt= and hour= directories of HourDir).
func KeyHour(rel string) (time.Time, bool) {
	parts := strings.Split(rel, "/")
	if len(parts) < 3 || !strings.HasPrefix(parts[0], "dt=") || !strings.HasPrefix(parts[1], "hour=") {
		return time.Time{}, false
	}
	h, err := time.Parse("2006-01-02 15", parts[0][3:]+" "+parts[1][5:])
	if err != nil {
		return time.Time{}, false
	}
	return h, true
}

// ErrNoManifest is returned by List when the topic directory has no
// manifest: its files, if any, are not known to be a lake.
var ErrNoManifest = errors.New("no lake manifest")

// File is one Parquet file of the lake as the manifest lists it. Batch's
// manifest (batch/lake) holds these; readers get them from List.
type File struct {
	// Path is relative to the topic directory, with forward slashes.
	Path        string    `json:"path"`
	Partition   int32     `json:"partition"`
	FirstOffset int64     `json:"first_offset"`
	LastOffset  int64     `json:"last_offset"`
	Rows        int64     `json:"rows"`
	ParseErrors int64     `json:"parse_errors"`
	Bytes       int64     `json:"bytes"`
	Hour        time.Time `json:"hour"`
	// Rules are the ingest rules the file's rows were decoded with
	// (ingest.Rules.ID); "" in files written before they were recorded.
	// Batch re-parses a file whose rules are not the layer's.
	Rules string `json:"rules,omitempty"`
}

// manifest is the part of batch's manifest a reader needs: which files are
// the lake.
type manifest struct {
	Version int    `json:"version"`
	Topic   string `json:"topic"`
	Files   []File `json:"files"`
}

// CheckManifest returns an error when a manifest read from path has a
// version or topic this loglambda does not read as the lake of topic; every
// reader of the manifest (List, batch's LoadManifest) calls it.
func CheckManifest(path string, version int, topic, want string) error {
	if version != ManifestVersion {
		return fmt.Errorf("read lake manifest %s: version %d, this loglambda reads version %d", path, version, ManifestVersion)
	}
	if topic != want {
		return fmt.Errorf("read lake manifest %s: topic %q, want %q", path, topic, want)
	}
	return nil
}

// List returns the files the manifest of topic lists, sorted by path,
// with their paths checked to stay inside the topic directory. It returns
// an error wrapping ErrNoManifest when there is no manifest, and the
// error of CheckManifest when it is not one this loglambda reads.
func List(root, topic string) (dir string, files []File, err error) {
	dir, err = TopicDir(root, topic)
	if err != nil {
		return "", nil, err
	}
	files, found, err := ListStore(context.Background(), objstore.NewDir(filepath.Dir(dir)), topic)
	if err != nil {
		return "", nil, err
	}
	if !found {
		return "", nil, fmt.Errorf("%w for topic %q under %s (%s does not exist): write one with `loglambda batch compact --lake %s --topic %s`",
			ErrNoManifest, topic, root, filepath.Join(dir, ManifestName), root, topic)
	}
	return dir, files, nil
}

// ListStore reads the manifest of topic in store (a directory or a
// bucket prefix): its files, sorted by path and checked as List's; found
// is false when there is no manifest.
func ListStore(ctx context.Context, store objstore.Store, topic string) (files []File, found bool, err error) {
	if err := checkTopic(topic); err != nil {
		return nil, false, err
	}
	key := topic + "/" + ManifestName
	mpath := store.String() + "/" + key
	data, _, err := store.Get(ctx, key)
	if errors.Is(err, objstore.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read lake manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, true, fmt.Errorf("read lake manifest: decode %s: %w", mpath, err)
	}
	if err := CheckManifest(mpath, m.Version, m.Topic, topic); err != nil {
		return nil, true, err
	}
	for _, f := range m.Files {
		// A manifest path leaving the topic directory would widen what
		// a query may read (allowed_paths) beyond the lake.
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) || path.Clean(f.Path) != f.Path || !strings.HasSuffix(f.Path, ".parquet") {
			return nil, true, fmt.Errorf("read lake manifest %s: file %q is not a Parquet file inside the topic directory", mpath, f.Path)
		}
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	return m.Files, true, nil
}

// checkTopic refuses topics that are not a single directory name (so a
// topic cannot point outside the lake).
func checkTopic(topic string) error {
	if topic == "" || topic == "." || topic == ".." || strings.ContainsAny(topic, `/\`) {
		return fmt.Errorf("topic %q is not a valid directory name", topic)
	}
	return nil
}

// TopicDir returns the lake directory of topic, refusing topics that are
// not a single directory name (so a topic cannot point outside the lake).
func TopicDir(root, topic string) (string, error) {
	if err := checkTopic(topic); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(filepath.Join(root, topic))
	if err != nil {
		return "", fmt.Errorf("lake %s: %w", root, err)
	}
	return abs, nil
}

// Files returns the absolute paths of the lake's Parquet files of topic
// in the local directory root, sorted: the manifest's list when there is a
// manifest, else every dt=*/hour=*/*.parquet file. It returns an error
// wrapping ErrNoLake when there are none.
func Files(root, topic string) ([]string, error) {
	dir, err := TopicDir(root, topic)
	if err != nil {
		return nil, err
	}
	objs, err := Objects(context.Background(), objstore.NewDir(filepath.Dir(dir)), topic)
	if err != nil {
		return nil, err
	}
	files := make([]string, len(objs))
	for i, o := range objs {
		files[i] = filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(o.Key, topic+"/")))
	}
	return files, nil
}

// Objects returns the lake's Parquet objects of topic in store, sorted by
// key (keys relative to the store's root, sizes from the manifest, -1 when
// it has none): the manifest's list when there is a manifest, else every
// object matching Glob. It returns an error wrapping ErrNoLake when there
// are none.
func Objects(ctx context.Context, store objstore.Store, topic string) ([]objstore.Info, error) {
	if err := checkTopic(topic); err != nil {
		return nil, err
	}
	noLake := func(why string) error {
		return fmt.Errorf("%w for topic %q under %s (%s): write one with `loglambda batch compact --lake %s --topic %s`",
			ErrNoLake, topic, store, why, store, topic)
	}
	if root := store.LocalDir(); root != "" {
		if st, err := os.Stat(filepath.Join(root, topic)); err != nil || !st.IsDir() {
			return nil, noLake(filepath.Join(root, topic) + " does not exist")
		}
	}
	listed, found, err := ListStore(ctx, store, topic)
	if err != nil {
		return nil, err
	}
	if !found {
		all, err := store.List(ctx, topic+"/")
		if err != nil {
			return nil, fmt.Errorf("list lake %s/%s: %w", store, topic, err)
		}
		var objs []objstore.Info
		for _, o := range all {
			if ok, _ := path.Match(Glob, strings.TrimPrefix(o.Key, topic+"/")); ok {
				o.Size = -1
				objs = append(objs, o)
			}
		}
		if len(objs) == 0 {
			return nil, noLake("no Parquet files and no manifest")
		}
		return objs, nil
	}
	objs := make([]objstore.Info, len(listed))
	for i, f := range listed {
		size := f.Bytes
		if size <= 0 {
			size = -1
		}
		objs[i] = objstore.Info{Key: topic + "/" + f.Path, Size: size}
	}
	if len(objs) == 0 {
		return nil, noLake("the manifest lists no files")
	}
	return objs, nil
}
