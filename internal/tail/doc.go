// Package tail reads log files line by line the way `tail -F` follows them,
// for `loglambda ship`, and keeps the position file that lets a restarted
// shipper carry on where the last one stopped.
//
// The pieces:
//
//   - lineReader (lines.go) splits a byte stream into lines with a cap on
//     the line size: a longer line is cut to the cap and the rest of it
//     skipped, and Line.Size still tells its real length, so the caller can
//     count it. A log file with a runaway line (a dumped blob, binary junk
//     with no '\n') therefore costs at most the cap in memory, never a crash
//     and never a silently dropped line.
//   - Follower (follow.go) reads one file (or stdin) to its end and, with
//     Follow, keeps polling it: when the path names a new file (rotation by
//     rename + create, seen as a new device/inode) it first finishes the old
//     file, then switches; when the file shrank below the read position
//     (truncation, copytruncate rotation) it starts again at 0.
//   - Acks (acks.go) turns out-of-order acknowledgements (Kafka acknowledges
//     partitions independently) into the position up to which every line of
//     a file has been acknowledged, in file order.
//   - Positions (position.go) is the JSON position file, written atomically.
//
// Polling rather than inotify: the shipper has to stat the path anyway to see
// rotations done while it was not running, a 250 ms poll is far below what
// the speed layer's panes can resolve, and it works the same on every file
// system (NFS, overlay, bind mounts) without a dependency.
//
// This package is infrastructure for the shipper, not a layer of the lambda
// architecture (see ARCHITECTURE.md), which is why it lives under internal/.
package tail
