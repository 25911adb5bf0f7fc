// Package lake is the batch layer's master dataset: immutable Parquet files
// of events under <root>/<topic>/dt=YYYY-MM-DD/hour=HH/, Hive-partitioned
// by event time, and the manifest that says which files are the lake.
//
// The manifest is the single source of truth. A file exists in the lake
// only once the manifest names it; anything else under the topic directory
// (a file written by a run that crashed before saving the manifest, a temp
// file) is an orphan and RemoveOrphans deletes it. Every change is
// therefore "write new files, save the manifest atomically, delete old
// files", and a crash at any point leaves either the old or the new lake,
// never both and never a duplicate row.
//
// Files: paths.go (names and directories), manifest.go (the manifest and
// its atomic save), parquet.go (writing and merging Parquet files with
// arrow-go's pqarrow), orphans.go (cleanup), lock.go (one writer at a time).
package lake
