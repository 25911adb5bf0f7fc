// Package batch is the batch layer: it keeps the master dataset and
// recomputes exact views from it.
//
//   - Compact (compact.go) reads every partition of the topic from where the
//     lake ends to the high watermark taken at the start, so a run is
//     bounded; parses each record (raw line kept, parse errors kept); and
//     writes Parquet files per partition and event-time hour into the lake
//     (package lake), recording them in the manifest. Then it merges the
//     small files of finished hours (merge.go).
//   - Recompute (recompute.go, sql.go) runs DuckDB over the lake files of
//     each complete hour that is new or dirty, builds the same view states
//     speed builds (package views, exact), replaces the hour's batch_*
//     documents, and moves the horizon (meta.go). Then it deletes the speed
//     documents that ended at least SpeedMargin before the horizon
//     (retention.go): serving answers those panes from batch.
//   - Run is Compact then Recompute; running it again without new records
//     changes nothing.
//
// Completeness (complete.go): an hour is recomputed once its end plus the
// grace is before now, and compaction has read past it on every partition
// (the partition's newest event time >= hour end + lateness; partitions
// without any data do not hold it back, nor do quiet ones: read to their
// end with no record newer than the grace, by Kafka record timestamp, as
// after a finished file was shipped). An hour that gets rows after it was
// recomputed is marked dirty and recomputed next run.
package batch
