package serving

import (
	"sync"
	"sync/atomic"
	"time"
)

// RefreshCost is what the refreshes cost, for /v1/status and ci/scale.sh:
// a refresh reads what changed, so its cost per tick must not grow with
// the history held (a day or a week of panes), only with what changed.
type RefreshCost struct {
	// Ticks counts the refreshes since start (failed ones included).
	Ticks int64
	// Last is the latest refresh: its duration and the documents it read
	// (view and tier documents, checkpoints, batch_meta).
	LastMS   float64
	LastDocs int64
	// Over the last refreshes (at most refreshCostWindow): their number,
	// the mean and largest duration and the mean documents read, and the
	// mean time of their publish (merging what was read into the hour
	// blocks and snapshot, in memory: the rest of MeanMS is waiting on
	// the store's reads).
	Window        int
	MeanMS        float64
	MaxMS         float64
	MeanDocs      float64
	MeanPublishMS float64
	// SpeedScans counts the refreshes that scanned the speed collections
	// (whole at start) rather than reading by _id; BatchWholeReads the
	// whole reads of the batch layer; BatchHoursRead the recomputed hours
	// read by _id.
	SpeedScans      int64
	BatchWholeReads int64
	BatchHoursRead  int64
	// PendingWrites are the speed pane writes listed but left for the
	// next refreshes, beyond a refresh's budget (tickWrites): a catch-up's
	// backlog in serving, 0 once it has read everything listed.
	PendingWrites int64
}

// refreshCostWindow is how many refreshes the means cover: a minute at
// the default interval.
const refreshCostWindow = 60

// refreshCosts records the refreshes' cost. Safe for concurrent use.
type refreshCosts struct {
	// docs counts the documents read by the refresh running; readByID's
	// readers add to it concurrently.
	docs atomic.Int64
	// publish is the time the running refresh spent publishing (ns).
	publish atomic.Int64

	// scans, wholeReads and hoursRead are RefreshCost's SpeedScans,
	// BatchWholeReads and BatchHoursRead.
	scans, wholeReads, hoursRead atomic.Int64
	// pending is RefreshCost's PendingWrites, set by each refresh.
	pending atomic.Int64

	mu    sync.Mutex
	ticks int64
	ring  [refreshCostWindow]tickCost
}

type tickCost struct {
	ms, publishMS float64
	docs          int64
}

// done records a refresh that took d and read the documents counted since
// the previous one.
func (c *refreshCosts) done(d time.Duration) {
	docs, publish := c.docs.Swap(0), c.publish.Swap(0)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ring[c.ticks%refreshCostWindow] = tickCost{ms: float64(d) / float64(time.Millisecond),
		publishMS: float64(publish) / float64(time.Millisecond), docs: docs}
	c.ticks++
}

// tickCount is how many refreshes were recorded: cost changes with it.
func (c *refreshCosts) tickCount() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ticks
}

// cost returns the figures.
func (c *refreshCosts) cost() RefreshCost {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := RefreshCost{Ticks: c.ticks, Window: int(min(c.ticks, refreshCostWindow)),
		SpeedScans: c.scans.Load(), BatchWholeReads: c.wholeReads.Load(), BatchHoursRead: c.hoursRead.Load(), PendingWrites: c.pending.Load()}
	if c.ticks == 0 {
		return out
	}
	last := c.ring[(c.ticks-1)%refreshCostWindow]
	out.LastMS, out.LastDocs = last.ms, last.docs
	var docs int64
	for i := range out.Window {
		t := c.ring[i]
		out.MeanMS += t.ms
		out.MeanPublishMS += t.publishMS
		out.MaxMS = max(out.MaxMS, t.ms)
		docs += t.docs
	}
	out.MeanMS /= float64(out.Window)
	out.MeanPublishMS /= float64(out.Window)
	out.MeanDocs = float64(docs) / float64(out.Window)
	return out
}
