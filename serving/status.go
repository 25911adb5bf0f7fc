package serving

import (
	"slices"
	"sync"
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

// Status reports the state of the cache the queries read. Callers must
// not change the answer: it is shared by the requests of its second.
func (s *Server) Status() *StatusAnswer { return s.status().ans.(*StatusAnswer) }

// statusCache keeps the last status answer, with its JSON body and gRPC
// message once encoded (answerEntry), and what it was built from. A
// status is the floor a dashboard and ci/scale.sh poll; built and encoded
// per request (the lake summary a map encoded by reflection, the gRPC
// one a Struct) it answered 1,492 requests/s over HTTP and 1,035 over
// gRPC where cached view answers did 5,333 (ci/scale.sh HISTORY=24h at
// 182ea51). What it reads changes at most once a second: the snapshot
// and the refresh ticks at each refresh, the broker's end offsets and
// the backlogs with the live read (liveMaxAge), and the clock's second
// in how long a stalled partition has not been written.
type statusCache struct {
	mu     sync.Mutex
	sn     *snapshot
	ticks  int64
	liveAt time.Time
	sec    int64
	e      *answerEntry
}

// status returns the status over the current snapshot, built once per
// change of what it reads.
func (s *Server) status() *answerEntry {
	sn := s.snap.Load()
	live := s.live.get(time.Now(), s.cfg.endOffsets, s.cfg.backlogs)
	ticks := s.costs.tickCount()
	sec := s.cfg.now().Unix()
	c := &s.statusCache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.e != nil && c.sn == sn && c.ticks == ticks && c.liveAt.Equal(live.at) && c.sec == sec {
		return c.e
	}
	c.sn, c.ticks, c.liveAt, c.sec = sn, ticks, live.at, sec
	c.e = &answerEntry{ans: s.statusOf(sn, live)}
	return c.e
}

// statusOf builds the status over sn and the live read.
func (s *Server) statusOf(sn *snapshot, live liveRead) *StatusAnswer {
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
	ans.Behind = slices.Clone(live.backlogs)
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
	s.brokerLag(ans, live.ends, live.err)
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
