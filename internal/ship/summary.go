package ship

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Summary is what a Run did. Lines and Bytes are what was read; Acked is
// what Kafka acknowledged, the only thing that counts as shipped.
type Summary struct {
	Lines     int64 // lines read
	Bytes     int64 // bytes read, '\n' included, cut parts of long lines included
	Events    int64 // records produced (a multi-line group is one)
	Truncated int64 // lines cut to the line cap (shipped cut)
	// ParseErrors counts records whose parse for the key failed: they are
	// shipped without a key.
	ParseErrors int64
	Acked       int64 // records Kafka acknowledged
	AckedLines  int64 // lines in those records
	Failed      int64 // records that failed to produce
	// Unacked counts records neither acknowledged nor failed when Run gave
	// up waiting (flush timeout): not delivered as far as we know.
	Unacked     int64
	Split       int64 // multi-line groups cut by a cap (lines or bytes)
	Rotations   int64 // files found rotated and switched to
	Truncations int64 // files found truncated and re-read from 0
	Elapsed     time.Duration
}

// String is the summary line printed at the end of `loglambda ship`.
func (s Summary) String() string {
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.AckedLines) / s.Elapsed.Seconds()
	}
	out := fmt.Sprintf("shipped %d lines (%s) in %d records in %v (%.0f lines/s): acked %d, failed %d; truncated lines %d, key parse errors %d",
		s.Lines, humanBytes(s.Bytes), s.Events, s.Elapsed.Round(time.Millisecond), rate, s.Acked, s.Failed, s.Truncated, s.ParseErrors)
	if s.Unacked > 0 {
		out += fmt.Sprintf(", unacknowledged %d", s.Unacked)
	}
	if s.Split > 0 {
		out += fmt.Sprintf(", multi-line groups split %d", s.Split)
	}
	if s.Rotations > 0 || s.Truncations > 0 {
		out += fmt.Sprintf(", rotations %d, file truncations %d", s.Rotations, s.Truncations)
	}
	return out
}

// counters are the live Summary, updated by the readers and the produce
// callbacks.
type counters struct {
	lines, bytes, events, truncated, parseErrors atomic.Int64
	acked, ackedLines, failed, split             atomic.Int64
}

func (c *counters) summary() Summary {
	return Summary{
		Lines: c.lines.Load(), Bytes: c.bytes.Load(), Events: c.events.Load(),
		Truncated: c.truncated.Load(), ParseErrors: c.parseErrors.Load(),
		Acked: c.acked.Load(), AckedLines: c.ackedLines.Load(), Failed: c.failed.Load(),
		Split: c.split.Load(),
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
