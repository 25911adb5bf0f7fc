package serving

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Backlog is how far one layer running in this process is behind in
// writing its views: what `up` reports in /v1/status when MongoDB is slow
// or unreachable, besides the partitions' lag (which only says what speed
// has not read).
type Backlog struct {
	// Layer is "speed" or "batch".
	Layer string `json:"layer"`
	// PendingDocs counts the view documents waiting to be written (speed);
	// PendingHours the complete hours waiting to be recomputed (batch).
	PendingDocs  int64 `json:"pending_docs"`
	PendingHours int   `json:"pending_hours,omitempty"`
	// OldestPending is the oldest pane (speed) or hour (batch) waiting.
	OldestPending time.Time `json:"oldest_pending,omitzero"`
	// FailingSince is when the layer's writes started failing; zero while
	// they work. LastError is the last failure.
	FailingSince time.Time `json:"failing_since,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	// SkippedPanes and SkippedDocs are what speed did not write because
	// batch had already recomputed those hours.
	SkippedPanes int64 `json:"skipped_panes,omitempty"`
	SkippedDocs  int64 `json:"skipped_docs,omitempty"`
	// Blocked is what keeps the layer from running at all (the broker
	// refused its credentials); while a layer is blocked /readyz answers
	// 503 with it.
	Blocked string `json:"blocked,omitempty"`
}

// Backlogs gives the server a source of the backlogs of the layers running
// in the same process (`up` passes speed's and batch's); /v1/status shows
// them under "behind" (read at most once per liveMaxAge). Without it
// (serve alone) the status has none.
func Backlogs(f func() []Backlog) Opt { return func(c *cfg) { c.backlogs = f } }

// EndOffsets gives the server the broker's end offset of each partition
// of the topic (the offset the next record will get), read when
// /v1/status is asked (at most once per liveMaxAge): lag is then
// the broker's end now minus the checkpoint, and a partition with records that no speed member wrote for
// StalledAfter (or ever) is listed under "behind". Without it (serve
// with no --brokers) the lag is unknown, and said so: the high watermark
// a checkpoint stored says nothing of a partition nobody consumes.
func EndOffsets(f func(context.Context) (map[int32]int64, error)) Opt {
	return func(c *cfg) { c.endOffsets = f }
}

// BrokerEndOffsets is EndOffsets read from the broker with cl (kadm's
// ListEndOffsets of topic), what up and serve --brokers pass.
func BrokerEndOffsets(cl *kgo.Client, topic string) Opt {
	adm := kadm.NewClient(cl)
	return EndOffsets(func(ctx context.Context) (map[int32]int64, error) {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
		}
		out := map[int32]int64{}
		ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
		return out, nil
	})
}

// StalledAfter is how long a partition's records may wait with its
// checkpoint unchanged before /v1/status says no member writes it.
const StalledAfter = 30 * time.Second

// endOffsetsTimeout bounds the broker read of one /v1/status.
const endOffsetsTimeout = 2 * time.Second

// liveMaxAge is how long one read of the broker's end offsets (or its
// failure) and of the backlogs of this process's layers answers every
// /v1/status. A status is the floor a dashboard and ci/scale.sh poll:
// read at each request it was a ListOffsets round trip to the broker and
// a walk of speed's panes under the lock its flushes hold (1,140
// requests/s, p99 73 ms under 8 clients on the shared 2-core machine,
// while cached view answers did 1,650-5,230), and a broker that does not
// answer cost every request the 2 s timeout. A lag a second old is as
// good as the checkpoints it is compared with, written about once a
// second.
const liveMaxAge = time.Second

// liveCache keeps the last read of the broker's end offsets and of the
// layers' backlogs; the requests of one second share it, and those
// arriving while it is read wait for that one read rather than each
// asking the broker.
type liveCache struct {
	mu       sync.Mutex
	at       time.Time // when the fields below were read; zero: never
	ends     map[int32]int64
	err      error
	backlogs []Backlog
}

// liveRead is one read of the broker's end offsets and of the layers'
// backlogs: what liveCache.get returns, and at, when it was read, which
// tells a status built from it from one built from the next.
type liveRead struct {
	at       time.Time
	ends     map[int32]int64
	err      error
	backlogs []Backlog
}

// get returns the end offsets and backlogs read at most liveMaxAge ago
// (by now), reading them when older (a nil source: none). Callers must
// not change what it returns.
func (c *liveCache) get(now time.Time, ends func(context.Context) (map[int32]int64, error), backlogs func() []Backlog) liveRead {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && now.Sub(c.at) < liveMaxAge && !now.Before(c.at) {
		return liveRead{at: c.at, ends: c.ends, err: c.err, backlogs: c.backlogs}
	}
	c.ends, c.err, c.backlogs = nil, nil, nil
	if ends != nil {
		ctx, cancel := context.WithTimeout(context.Background(), endOffsetsTimeout)
		defer cancel()
		c.ends, c.err = ends(ctx)
	}
	if backlogs != nil {
		c.backlogs = backlogs()
	}
	c.at = now
	return liveRead{at: c.at, ends: c.ends, err: c.err, backlogs: c.backlogs}
}

// brokerLag sets the partitions' high watermark and lag from the broker's
// end offsets ends (err: why they could not be read), adds the partitions
// the broker has and no checkpoint names, and lists under Behind those
// whose records wait while no member writes them (or the broker read's
// failure).
func (s *Server) brokerLag(ans *StatusAnswer, ends map[int32]int64, err error) {
	if s.cfg.endOffsets == nil {
		lagUnknown(ans, "this server reads no broker (serve --brokers is empty)")
		return
	}
	if err != nil {
		why := fmt.Sprintf("broker end offsets: %v", err)
		lagUnknown(ans, why)
		ans.Behind = append(ans.Behind, Backlog{Layer: "speed", LastError: why + " (lag unknown)"})
		return
	}
	now := s.cfg.now()
	known := map[int32]bool{}
	for i := range ans.Partitions {
		p := &ans.Partitions[i]
		known[p.Partition] = true
		end, ok := ends[p.Partition]
		if !ok {
			continue
		}
		p.HighWatermark = end
		p.Lag = max(end-1-p.Offset, 0)
		if p.Lag > 0 && now.Sub(p.Updated) > StalledAfter {
			ans.Behind = append(ans.Behind, Backlog{Layer: "speed", FailingSince: p.Updated,
				LastError: fmt.Sprintf("partition %d: %d records wait and no speed member has written it for %s", p.Partition, p.Lag, now.Sub(p.Updated).Round(time.Second))})
		}
	}
	for id, end := range ends {
		if known[id] || end <= 0 {
			continue
		}
		ans.Partitions = append(ans.Partitions, PartitionStatus{Partition: id, Offset: -1, HighWatermark: end, Lag: end})
		ans.Behind = append(ans.Behind, Backlog{Layer: "speed",
			LastError: fmt.Sprintf("partition %d: %d records and no speed member has ever written it", id, end)})
	}
	slices.SortFunc(ans.Partitions, func(a, b PartitionStatus) int { return int(a.Partition) - int(b.Partition) })
}

// lagUnknown marks every partition's lag unknown (-1), why in LagUnknown:
// a lag from the checkpoints alone would say 0 for a partition nobody
// consumes.
func lagUnknown(ans *StatusAnswer, why string) {
	ans.LagUnknown = why
	for i := range ans.Partitions {
		ans.Partitions[i].Lag = -1
	}
}
