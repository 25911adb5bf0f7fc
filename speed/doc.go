// Package speed is the speed layer: a Kafka consumer group member that
// turns records into pane states (views.Pane) per partition and writes them
// to MongoDB within seconds, exactly once, without transactions.
//
// # How the pieces fit
//
// speed.go runs the poll loop; process.go parses each poll's records (the
// parser named by the record's "format" header, else the configured one)
// and applies them (partition.go), the partitions of a poll in parallel on
// up to GOMAXPROCS goroutines, each holding the lock shared per chunk of
// records, so a flush's cut never waits for a whole poll. flush.go takes a
// cut of the dirty state holding that lock exclusively and writes it from its own goroutine while polling
// goes on, partition by partition: the partition's dirty panes, oldest
// first, as idempotent replaces into the view collections (speed_hot,
// speed_traffic, speed_levels; one document per view, pane and partition)
// through the shared MongoDB writer (base/replace: commands of at most
// 64 documents, each with its own deadline), then, only if all of them were
// written, the partition's checkpoint (speed_checkpoints). A flush that
// fails part way keeps what it wrote and leaves the rest dirty for the
// next one, so a slow store slows speed down without stopping it. group.go handles the consumer
// group: on assignment it restores a partition from MongoDB (restore.go)
// and positions it there, overriding the group's committed offsets (which
// are written only as a hint for lag tools); on revocation it flushes and
// drops the partition; on loss it drops it without writing.
//
// # The rule
//
// Per partition, in offset order: the watermark is the newest event time
// seen minus the lateness, never moving back (events without a time of
// their own do not move it). A record that does not parse is counted in
// parse_errors. An event whose pane ends at or before the watermark is
// counted in late_dropped (batch will count it). Any other event is added to
// its pane. A pane is final once the watermark passes its end; it is
// written one last time and leaves memory. Each pane view remembers the
// last offset applied to it (the document's offset).
//
// # Why a restart gives the same documents
//
// Let an uninterrupted run define, for each partition, the watermark W(o)
// after offset o and the state S(pane, o) of each pane after the events up
// to o. Everything above is a function of the records in offset order
// only: lateness is decided by W, never by what happens to be in memory
// (which depends on flush timing). Two facts about what is in MongoDB at
// any moment:
//
//  1. A flush writes, per partition, a cut taken at some offset c: every
//     dirty pane's state S(pane, c) with its offset, then the checkpoint
//     with c, W(c) and the counters at c. The checkpoint is written only
//     after all of the partition's documents of the cut succeeded, a pane
//     is marked clean only once its documents are written, and one flush
//     runs at a time, so the documents are never behind the checkpoint:
//     every pane open at W(c) (end > W(c)) that got an event at or before c
//     has a document holding all of them. Documents may be ahead of the
//     checkpoint (a crash between the two writes, or a flush that failed
//     after some of its commands), by later cuts, whole or in part: each
//     document written is still S(pane, d) for its own offset d.
//  2. A document's state for pane x at offset d is S(x, d): exactly the
//     non-late events of x at offsets <= d.
//
// On (re)assignment the partition restores the checkpoint (c, W(c),
// counters; none: c = -1, nothing counted) and the documents of the panes
// open at W(c) (all of them without a checkpoint), and resumes at
// min(c, smallest document offset) + 1. Replaying record o:
//
//   - o <= c: already counted. It changes no counter and no watermark, so
//     both continue from the checkpoint's values, which are those of the
//     uninterrupted run at c. It is applied only to a restored pane, and
//     only to a view whose offset is below o. By fact 1 that never happens
//     for a checkpoint this layer wrote (restored panes hold everything up
//     to c); the rule is there so that documents behind their checkpoint
//     could only be completed, never counted twice.
//   - o > c: counted as in the uninterrupted run, from the same counters and
//     watermark, so late_dropped, parse_errors, events and W(o) are the
//     same. A non-late event for pane x is applied to each view of x whose
//     offset d < o. If x was restored from S(x, d) (fact 2), the events
//     skipped are exactly those at offsets <= d, which it holds; otherwise
//     x starts empty, and it holds nothing: x was not open at W(c) with
//     events before c (fact 1), and a pane final at W(c) gets only late
//     events after c. Either way x ends as S(x, o).
//
// A final pane's document is therefore written with its final state by the
// run that saw the watermark pass its end, or again identically after a
// restart. The views' states are deterministic given the events in order
// (the hot summary prunes deterministically; the traffic sketches are
// unions, and turn dense at a fixed event count of their pane), so the documents after a restart equal those of an uninterrupted
// run, offsets included, whether the previous run flushed on exit, was
// killed, or died between the documents and the checkpoint.
// TestSpeedRestart checks exactly that.
//
// The patterns view adds one piece of state that lives across panes: the
// partition's pattern miner (patterns.go). It sees every parsed record
// with an offset above the checkpoint, late ones included, and an exact
// snapshot of it (patterns.Miner.MarshalSnapshot) travels in the
// checkpoint, so after a restart it stands where the uninterrupted run's
// stood at c and gives every later record the same pattern id. A record at
// or below c that a restored pane still lacks gets its pattern by Match,
// which changes nothing.
//
// Per-view offsets exist because the view collections are written by
// separate commands: a crash between them leaves a pane's hot document
// ahead of its traffic document, and each must skip only what it holds.
//
// # Limits
//
// One topic per MongoDB database (document ids name the partition, not the
// topic).
//
// # Fencing
//
// A member that lost its partitions but does not know it yet (paused past
// its group session: a long GC pause, SIGSTOP, a partition from Kafka but
// not from MongoDB) still holds their old state and would flush it after
// the new owner restored and wrote further, putting older pane states over
// newer ones (for good, when the new owner had already written a pane's
// final state). Each partition's checkpoint therefore carries an owner
// epoch: a process assigned the partition claims it on restore (the epoch
// read plus one, written conditionally on the epoch read, before it writes
// anything), and every write of the partition is conditional on it in the
// store itself, in the same command, so that no pause of the writer between
// a check and its write can land anything over a newer owner's:
//
//   - The checkpoint carries a fence (base/replace.FenceField) that the
//     claim sets for the new epoch with the epoch itself, and every write
//     of it is fenced: the store refuses a checkpoint of an older owner.
//   - Each document carries the epoch of its writer (epoch) and a fence
//     (base/replace.FenceField) that makes the store refuse a write of a
//     smaller epoch than the last one that reached the document: the write
//     stays an update by _id alone, which the embedded store answers by
//     its index (a filter on _id and epoch is answered by decoding the
//     whole collection: 10-34 s per 64 documents against 0.2-0.9 s,
//     measured). A document the new owner has not written yet still takes
//     the old owner's write; its state is then that of the old owner's
//     last applied offset, never older than what is stored (an owner's
//     writes only move forward, and it restored what earlier owners
//     wrote), and the new owner writes over it as it goes.
//
// Before each command a flush also reads the stored epoch (one read by
// _id, once the command is encoded and it is the command's turn in the
// shared writer): a member that finds another's epoch stops before
// sending anything. Refused either way, the flush writes nothing more of
// the partition, logs what it did not write (with how many documents the
// store refused), counts it (fenced_writes_total) and drops the partition.
// TestFencingWindow stops a member right before a send, lets another
// claim and write, and checks that nothing the new owner wrote changed.
//
// What the embedded store (FerretDB 1.x) still leaves open is inside the
// server: it runs an update as a read by _id then a write by _id, without
// a transaction between them, so a newer owner's write committed in those
// microseconds between the two would be overwritten. No pause of the old
// owner widens it (its command is already in the server); real MongoDB
// applies each document's check and write atomically.
package speed
