package serving

import "time"

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
// them under "behind". Without it (serve alone) the status has none.
func Backlogs(f func() []Backlog) Opt { return func(c *cfg) { c.backlogs = f } }
