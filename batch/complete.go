package batch

import (
	"time"

	"github.com/loglambda/loglambda/batch/lake"
)

// complete reports whether hour h can be recomputed: its end plus the
// grace is before now, and compaction has read past it on every partition
// (the partition's newest event time is at least the hour's end plus the
// lateness). Partitions without any timed event do not hold it back, or an
// empty partition would stop the batch layer forever; nor do quiet ones
// (see lake.Partition.Quiet), or the last hour of a finished log would
// never be exact.
func (b *Batch) complete(m *lake.Manifest, h time.Time, now time.Time) bool {
	end := h.Add(time.Hour)
	if !end.Add(b.cfg.grace).Before(now) {
		return false
	}
	for _, ps := range m.Partitions {
		if ps.Blocks(end.Add(b.cfg.Lateness)) {
			return false
		}
	}
	return true
}

// horizon is the end of the contiguous run of recomputed hours that starts
// at the lake's first hour. Hours without files inside the run count as
// recomputed once complete (their views are empty, and correctly so). It
// is the zero time when the lake is empty.
func (b *Batch) horizon(m *lake.Manifest, now time.Time) time.Time {
	hours, files := m.HourFiles()
	if len(hours) == 0 {
		return time.Time{}
	}
	h := hours[0]
	for b.complete(m, h, now) {
		if len(files[h]) > 0 {
			hs := m.Hours[h]
			if hs == nil || hs.Recomputed.IsZero() {
				break
			}
		}
		h = h.Add(time.Hour)
	}
	return h
}
