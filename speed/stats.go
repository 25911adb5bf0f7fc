package speed

import (
	"sort"
	"time"
)

// Stats is a snapshot of the layer for status pages and tests.
type Stats struct {
	// Events, ParseErrors and LateDropped count what this process applied
	// since Run started (the Prometheus counters); the per-partition
	// counters below are cumulative over restarts, as in the checkpoints.
	Events, ParseErrors, LateDropped int64
	// Flushes is the number of successful flushes.
	Flushes int64
	// Partitions are the partitions assigned now, by partition number.
	Partitions []PartitionStats
	// Backlog is what waits to be written to MongoDB.
	Backlog Backlog
}

// PartitionStats describes one assigned partition.
type PartitionStats struct {
	Topic     string
	Partition int32
	// Offset is the last offset applied; Checkpointed the last one
	// flushed with its checkpoint; HighWatermark the partition's end as of
	// the last fetch (lag = HighWatermark - 1 - Offset).
	Offset, Checkpointed, HighWatermark int64
	Watermark, MaxEventTime             time.Time
	Events, ParseErrors, LateDropped    int64
	// OpenPanes is the number of panes held in memory.
	OpenPanes int
}

// Stats returns a snapshot; safe to call while Run runs.
func (s *Speed) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Events: s.total.events, ParseErrors: s.total.parseErrors, LateDropped: s.total.lateDropped, Flushes: s.flushes,
		Backlog: s.backlog()}
	for _, p := range s.parts {
		st.Partitions = append(st.Partitions, PartitionStats{
			Topic: p.topic, Partition: p.id,
			Offset: p.offset, Checkpointed: p.checkpointed, HighWatermark: p.hwm,
			Watermark: p.watermark, MaxEventTime: p.maxEvent,
			Events: p.events, ParseErrors: p.parseErrors, LateDropped: p.lateDropped,
			OpenPanes: len(p.panes),
		})
	}
	sort.Slice(st.Partitions, func(i, j int) bool { return st.Partitions[i].Partition < st.Partitions[j].Partition })
	return st
}
