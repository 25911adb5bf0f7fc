package serving

import (
	"slices"
	"time"

	"github.com/loglambda/loglambda/schemas/collections"
)

// PartitionStatus is speed's progress on one Kafka partition.
type PartitionStatus struct {
	Partition int32
	// Offset is the last offset applied and flushed, -1 when none.
	Offset        int64
	HighWatermark int64
	// Lag is the number of records written to the partition that speed
	// has not applied yet, from the broker's end offset now; -1 when the
	// server cannot read the broker (StatusAnswer.LagUnknown says why).
	// HighWatermark is then the one the checkpoint stored.
	Lag int64
	// Watermark is zero before the partition's first event.
	Watermark   time.Time
	LateDropped int64
	ParseErrors int64
	Events      int64
	Updated     time.Time
}

// StatusAnswer is the operational state of the views served: the batch
// horizon, speed's progress per partition and the lake, the same over HTTP
// and gRPC.
type StatusAnswer struct {
	Topic        string
	Pane         time.Duration
	BatchHorizon time.Time // zero when batch has never run
	Partitions   []PartitionStatus
	// Totals over partitions.
	LateDropped int64
	ParseErrors int64
	Events      int64
	// Lake is batch's summary of the lake (batch_meta "lake|<topic>") as
	// JSON-like values, nil until batch has written one; LakeDir is where
	// this server expects the lake.
	Lake       map[string]any
	LakeDir    string
	SpeedPanes int
	BatchPanes int
	// Refreshed is when the cache was last refreshed; zero before the
	// first refresh.
	Refreshed time.Time
	// Behind are the backlogs of the layers in this process (Backlogs),
	// partitions that wait with no speed member writing them, and the
	// layers blocked as recorded in MongoDB.
	Behind []Backlog
	// LagUnknown says why the partitions' lag is unknown (no broker, or
	// the broker did not answer); empty when it comes from the broker.
	LagUnknown string
	// Refresh is what the refreshes read and took.
	Refresh RefreshCost
}

// Status reports the state of the cache the queries read.
func (s *Server) Status() *StatusAnswer {
	sn := s.snap.Load()
	ans := &StatusAnswer{
		Topic:        s.cfg.topic,
		Pane:         s.cfg.pane,
		BatchHorizon: sn.horizon,
		Partitions:   make([]PartitionStatus, 0, len(sn.status.partitions)),
		Lake:         sn.status.lake,
		LakeDir:      s.cfg.lake,
		SpeedPanes:   len(sn.speed.panes),
		BatchPanes:   len(sn.batch.panes),
		Refreshed:    sn.refreshed,
		Refresh:      s.costs.cost(),
	}
	ends, backlogs, endsErr := s.live.get(time.Now(), s.cfg.endOffsets, s.cfg.backlogs)
	ans.Behind = slices.Clone(backlogs)
	for _, c := range sn.status.partitions {
		ans.Partitions = append(ans.Partitions, PartitionStatus{
			Partition:     c.Partition,
			Offset:        c.Offset,
			HighWatermark: c.HighWatermark,
			Lag:           -1, // brokerLag's
			Watermark:     c.Watermark,
			LateDropped:   c.LateDropped,
			ParseErrors:   c.ParseErrors,
			Events:        c.Events,
			Updated:       c.Updated,
		})
		ans.LateDropped += c.LateDropped
		ans.ParseErrors += c.ParseErrors
		ans.Events += c.Events
	}
	ans.Behind = append(ans.Behind, blockedBacklogs(sn.status.blocked)...)
	s.brokerLag(ans, ends, endsErr)
	return ans
}

// blockedBacklogs are the layer processes recorded as blocked, as
// backlogs: the layer, the instance (a speed member's) and the cause.
func blockedBacklogs(states []collections.LayerState) []Backlog {
	var out []Backlog
	for _, st := range states {
		b := Backlog{Layer: st.Layer, Blocked: st.Cause, FailingSince: st.Since}
		if st.Instance != "" {
			b.LastError = "instance " + st.Instance + " is blocked"
		}
		out = append(out, b)
	}
	return out
}
