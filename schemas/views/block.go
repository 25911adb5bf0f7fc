package views

import (
	"slices"
	"time"
)

// Blocks: the states of a longer period, an hour of panes or a UTC day of
// hours, which batch stores beside its panes (batch_<view>_tiers) and
// serving keeps in memory beside its panes, so a question over a day
// merges one state instead of 1,440. Both build them with Block, so a
// block read from batch and one serving merged itself are the same state.

// Block widths.
const (
	BlockHour = time.Hour
	BlockDay  = 24 * time.Hour
)

// Block returns the merge of parts (panes of one hour, or hour blocks of
// one day; nil parts are skipped, the parts are not changed) as one state
// starting at start: an exact hot summary (MergeHot: the largest capacity
// among the parts, pruned once), dense traffic sketches (NewMergeTraffic),
// every other view merged as Pane.Merge does into a state without the
// caps a stored pane keeps (PaneSpec.Merging), and, when clusters is set,
// the clusters' union reduced to TierMicroClusters (a part of another
// cluster spec is kept only if it holds more events than the rest, as
// Pane.Merge does). Without clusters the block has none: an hour still
// filling, whose clusters a query reads pane by pane.
func Block(start time.Time, parts []*Pane, clusters bool) *Pane {
	return block(start, parts, clusters, func(string) bool { return true })
}

// BlockOf is Block of the views named only (every other view's state
// nil), clusters included when named: serving's sub-hour blocks of the
// views whose per-bucket reads cost most, so that a series in steps of a
// quarter hour reads four states an hour rather than sixty panes.
func BlockOf(start time.Time, parts []*Pane, names ...string) *Pane {
	keep := func(name string) bool { return slices.Contains(names, name) }
	return block(start, parts, keep(ViewClusters), keep)
}

func block(start time.Time, parts []*Pane, clusters bool, keep func(string) bool) *Pane {
	b := &Pane{}
	if keep(ViewHot) {
		hots := make([]*Hot, 0, len(parts))
		for _, q := range parts {
			if q != nil {
				hots = append(hots, q.Hot)
			}
		}
		b.Hot = MergeHot(hots...)
	}
	blockViews(b, start, parts, clusters, keep)
	b.trim()
	return b
}

// trim frees what a block built by merging holds but never reads again:
// it is kept (serving holds a decoded block per hour, quarter and day of
// its history) and only merged from, never added to. The clusters' cell
// index (rebuilt from the cells by the next Add, were there one), and the
// spare capacity of the slices merging grew: BenchmarkHeldPerHour
// (serving).
func (b *Pane) trim() {
	if c := b.Clusters; c != nil {
		c.index = nil
		// Sized for the union of the parts' micro-clusters, before
		// Reduce: a day's ~10,000 for 400 kept.
		c.mcs, c.cells = clipped(c.mcs), clipped(c.cells)
	}
	if b.Paths != nil {
		for _, st := range b.Paths.paths {
			st.Bytes.clip()
			st.Latency.clip()
		}
	}
}

// blockViews merges into b the views of parts but hot that keep names.
func blockViews(b *Pane, start time.Time, parts []*Pane, clusters bool, keep func(string) bool) {
	for _, sp := range Registry {
		if !keep(sp.Name) {
			continue
		}
		switch sp.Name {
		case ViewHot:
			continue
		case ViewTraffic:
			b.Traffic = NewMergeTraffic()
			for _, q := range parts {
				if q != nil && q.Traffic != nil {
					b.Traffic.Merge(q.Traffic)
				}
			}
			continue
		case ViewClusters:
			if !clusters {
				continue
			}
			acc := NewClusters(DefaultClusterSpec(), start)
			for _, q := range parts {
				if q == nil || q.Clusters == nil {
					continue
				}
				if err := acc.Merge(q.Clusters); err != nil && q.Clusters.Total() > acc.Total() {
					acc = q.Clusters.Clone()
				}
			}
			acc.Reduce(TierMicroClusters)
			b.Clusters = acc
			continue
		}
		sp.Fresh(b, PaneSpec{Merging: true}, start)
		for _, q := range parts {
			sp.Merge(b, q)
		}
	}
}

// clipped returns s reallocated to its length when a quarter or more of
// its capacity is spare, else s.
func clipped[S ~[]E, E any](s S) S {
	if 4*(cap(s)-len(s)) >= cap(s) && cap(s) > 0 {
		return slices.Clone(s)
	}
	return s
}
