package views

import "github.com/axiomhq/hyperloglog"

// NewMergeTraffic returns an empty traffic state whose sketches start in
// the dense representation, for merging many states into (a window of
// panes in serving). A sketch stays sparse up to 2^14 entries, and merging
// sparse sketches into a sparse one re-sorts its entry list again and again;
// merging into a dense sketch is one register update per entry. Keep
// NewTraffic for the states that are stored: sparse ones encode small.
func NewMergeTraffic() *Traffic {
	return &Traffic{UV: hyperloglog.NewNoSparse(), IPs: hyperloglog.NewNoSparse()}
}

// NewMergePane returns an empty pane to merge many panes into: an exact
// hot summary (it takes the capacity of the first bounded one merged in)
// and a NewMergeTraffic.
func NewMergePane() *Pane {
	p := NewPane(0)
	p.Traffic = NewMergeTraffic()
	p.Patterns = nil
	return p
}
