// Package ship is loglambda's log shipper: it reads files or stdin (with
// internal/tail, following them through rotation and truncation), groups
// multi-line records when asked, and produces one Kafka record per line or
// group with franz-go's idempotent producer. It replaces Logstash, Flume or
// Filebeat in front of the speed and batch layers.
//
// What a record carries (the Kafka contract of ARCHITECTURE.md):
//
//   - value: the raw line without its '\n' (or a group's lines joined with
//     '\n'), cut to the line cap;
//   - key: the value of the --key field of the parsed line, or none. The
//     line is parsed only for this; a line that does not parse is shipped
//     without a key and counted;
//   - headers: "format" = the parser's Spec, so the speed and batch layers
//     parse each record with the format it was shipped with; "source" = the
//     file path as given ("-" for stdin); "truncated" = the original size in
//     bytes, only on records holding a line cut to the cap.
//
// Delivery is at least once and, with the position file, effectively
// exactly once across restarts: a line counts as shipped only when Kafka
// acknowledged its record, and the position file only moves over lines that
// were acknowledged, in file order (tail.Acks). A clean stop (end of input,
// or the context cancelled by Ctrl-C) flushes what is buffered before the
// final position is written, so a restart neither resends nor skips lines.
// A record that fails is counted, logged, and keeps the position before it:
// Run returns an error, and a restart sends it (and the lines after it) again.
//
// Record size: the producer's batch limit is raised to the line cap plus
// 64 KiB (at least kgo's default 1000012), so a capped line, its key and
// headers always fit a batch on the client side. The broker checks the
// compressed batch against message.max.bytes (1048588 by default): log text
// compresses far below it with snappy (kgo's default codec), but a 1 MiB
// line of incompressible bytes is rejected; such a record fails loudly
// (counted, logged, non-zero exit). Lower --max-line or raise the broker's
// message.max.bytes for such sources.
//
// Memory is bounded by the producer buffer (MaxBufferedRecords and
// MaxBufferedBytes: Produce blocks when it is full) plus one line cap per
// file being read.
//
// This package is infrastructure in front of the lambda architecture, not a
// layer of it, so it lives under internal/ with the commands (ARCHITECTURE.md).
package ship
