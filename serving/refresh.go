package serving

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// refresher is the mutable side of the cache: the per-partition speed
// states and how far MongoDB has been read. Only Refresh touches it, under
// Server.refreshMu; what requests see is the snapshot it publishes.
type refresher struct {
	// loaded is set once a refresh has read the horizon document.
	loaded bool
	// indexed is set once index creation has been tried.
	indexed bool
	horizon collections.HorizonDoc
	batch   layer
	// speedRaw holds speed states per pane (Unix seconds) and partition,
	// as read; speed holds their merge across partitions, as published.
	speedRaw map[int64]map[int32]*views.Pane
	speed    layer
	// since is, per view, the newest `updated` read from its speed
	// collection; the next refresh reads from there minus the margin.
	since map[string]time.Time
	// dirty are the speed panes read since the last publish.
	dirty map[int64]bool
	// checkpoints are, per partition, the Updated of the checkpoint the
	// last read of the speed documents started from.
	checkpoints map[int32]time.Time
}

func newRefresher() refresher {
	return refresher{
		batch:    newLayer(),
		speedRaw: map[int64]map[int32]*views.Pane{},
		speed:    newLayer(),
		since:    map[string]time.Time{},
		dirty:    map[int64]bool{},

		checkpoints: map[int32]time.Time{},
	}
}

// Refresh brings the cache up to date with MongoDB once: the batch views if
// the horizon document changed, the speed documents changed since the last
// refresh, the checkpoints and the lake summary. Run calls it every refresh
// interval; tests call it directly. A failed refresh leaves the previous
// snapshot in place and is retried by the next one.
func (s *Server) Refresh(ctx context.Context) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	start := time.Now()
	err := s.refresh(ctx)
	s.metrics.refreshDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.refreshErrors.Inc()
		return err
	}
	s.setReady()
	return nil
}

func (s *Server) refresh(ctx context.Context) error {
	r := &s.r
	if !r.indexed {
		r.indexed = true
		if err := s.store.ensureIndexes(ctx); err != nil {
			s.cfg.logger.Warn("could not create indexes; incremental reads will scan", "err", err)
		}
	}
	m, err := s.store.readMeta(ctx)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	cps, err := s.store.readCheckpoints(ctx)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	if !r.loaded || !m.horizon.Horizon.Equal(r.horizon.Horizon) || !m.horizon.Updated.Equal(r.horizon.Updated) {
		batch, err := s.readBatch(ctx, m.horizon.Horizon)
		if err != nil {
			return fmt.Errorf("refresh: horizon %s: %w", fmtTime(m.horizon.Horizon), err)
		}
		if m.horizon.Horizon.Before(r.horizon.Horizon) {
			// The horizon moved back (batch state reset): speed panes
			// dropped as covered by batch are needed again, so read speed
			// from scratch.
			s.cfg.logger.Warn("batch horizon moved back; rereading speed views",
				"from", fmtTime(r.horizon.Horizon), "to", fmtTime(m.horizon.Horizon))
			r.speedRaw, r.speed, r.since, r.dirty = map[int64]map[int32]*views.Pane{}, newLayer(), map[string]time.Time{}, map[int64]bool{}
			r.checkpoints = map[int32]time.Time{}
		}
		r.batch, r.horizon, r.loaded = batch, m.horizon, true
	}
	if err := s.readSpeed(ctx, cps); err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	snap := s.publish(statusSnapshot{partitions: cps, lake: m.lake})
	s.snap.Store(snap)
	s.metrics.setCache(snap)
	return nil
}

// readBatch reads the batch states of every pane before horizon into a new
// layer. Batch replaces whole hours when it recomputes them, so the layer is
// rebuilt rather than patched: a pane batch no longer has must disappear.
func (s *Server) readBatch(ctx context.Context, horizon time.Time) (layer, error) {
	l := newLayer()
	if horizon.IsZero() {
		return l, nil
	}
	panes := map[int64]*views.Pane{}
	for _, view := range views.Names {
		coll := collections.BatchCollection(view)
		filter := bson.D{{Key: "pane", Value: bson.D{{Key: "$lt", Value: horizon}}}}
		_, err := s.store.readViews(ctx, coll, filter, func(d *collections.Doc) error {
			key, err := s.paneKey(d.Pane)
			if err != nil {
				return err
			}
			p := panes[key]
			if p == nil {
				p = views.NewPane(0)
				panes[key] = p
			}
			return p.Decode(view, d.State)
		}, s.badDoc)
		if err != nil {
			return l, err
		}
	}
	tiers, err := s.readClusterTiers(ctx, horizon)
	if err != nil {
		return l, err
	}
	l.tiers = tiers
	hours := map[int64]bool{}
	for k, p := range panes {
		l.panes[k] = newState(p)
		hours[hourOf(k)] = true
	}
	for h := range hours {
		l.rebuildHour(h, s.paneSeconds(), true)
	}
	return l, nil
}

// maxByID is the most panes a refresh reads by _id (a document per view
// each); more, as after a pause or during a backfill, are read by the
// scan.
const maxByID = 64

// readSpeed reads the speed documents written since the last refresh
// (minus the margin) of panes at or after the horizon into speedRaw,
// marking their panes dirty. When the checkpoints list every pane written
// since then (collections.Checkpoint.Written), it reads those documents by
// _id, which the embedded store finds through its index; otherwise it asks
// for the documents whose `updated` is recent, which that store answers by
// decoding every document of the collection.
func (s *Server) readSpeed(ctx context.Context, cps []collections.Checkpoint) error {
	r := &s.r
	var err error
	if writes, ok := s.writtenSince(cps); ok {
		err = s.readSpeedByID(ctx, writes)
	} else {
		err = s.scanSpeed(ctx)
	}
	if err != nil {
		return err
	}
	for _, cp := range cps {
		r.checkpoints[cp.Partition] = cp.Updated
	}
	return nil
}

// scanSpeed asks every speed collection for its documents updated since
// the last read (minus the margin), all of them the first time.
func (s *Server) scanSpeed(ctx context.Context) error {
	r := &s.r
	horizon := r.horizon.Horizon
	for _, view := range views.Names {
		filter := bson.D{}
		if since := r.since[view]; !since.IsZero() {
			filter = append(filter, bson.E{Key: "updated", Value: bson.D{{Key: "$gte", Value: since.Add(-s.cfg.refreshMargin)}}})
		}
		if !horizon.IsZero() {
			filter = append(filter, bson.E{Key: "pane", Value: bson.D{{Key: "$gte", Value: horizon}}})
		}
		newest, err := s.readSpeedDocs(ctx, view, filter, r.since[view])
		if err != nil {
			return err
		}
		r.since[view] = newest
	}
	return nil
}

// readSpeedDocs reads the documents of view's speed collection that match
// filter into speedRaw (keepSpeedDoc) and returns the latest `updated`
// among them and newest. The caller moves r.since[view] on only once
// every read of the refresh succeeded.
func (s *Server) readSpeedDocs(ctx context.Context, view string, filter bson.D, newest time.Time) (time.Time, error) {
	_, err := s.store.readViews(ctx, collections.SpeedCollection(view), filter, func(d *collections.Doc) error {
		if d.Updated.After(newest) {
			newest = d.Updated
		}
		return s.keepSpeedDoc(view, d)
	}, s.badDoc)
	return newest, err
}

// paneWrite is a pane of one partition written at some time.
type paneWrite struct {
	partition int32
	collections.PaneWrite
}

// writtenSince returns the panes at or after the horizon written since the
// last refresh, from the checkpoints' lists, and whether those lists are
// complete since the checkpoints this server read last and short enough to
// read by _id. A checkpoint is written after the documents it lists, in
// the order of the writes, so a write the last refresh did not see has a
// time after the checkpoint that refresh read.
func (s *Server) writtenSince(cps []collections.Checkpoint) ([]paneWrite, bool) {
	r := &s.r
	if len(cps) == 0 {
		return nil, false // no speed layer writes checkpoints (or not yet)
	}
	var out []paneWrite
	for _, cp := range cps {
		seen, ok := r.checkpoints[cp.Partition]
		switch {
		case !ok:
			return nil, false // a partition not read before
		case cp.Updated.Equal(seen):
			continue // nothing written since
		case cp.WrittenSince.IsZero() || cp.WrittenSince.After(seen):
			return nil, false // the list begins after the last read
		}
		from := seen.Add(-s.cfg.refreshMargin)
		for _, w := range cp.Written {
			if !w.At.Before(from) && !w.Pane.Before(r.horizon.Horizon) {
				out = append(out, paneWrite{partition: cp.Partition, PaneWrite: w})
			}
		}
		if len(out) > maxByID {
			return nil, false
		}
	}
	return out, true
}

// readSpeedByID reads the documents of the panes written, every view's,
// by _id.
func (s *Server) readSpeedByID(ctx context.Context, writes []paneWrite) error {
	r := &s.r
	for _, view := range views.Names {
		newest := r.since[view]
		for _, w := range writes {
			id := collections.DocID(view, w.Pane, w.partition)
			var err error
			if newest, err = s.readSpeedDocs(ctx, view, bson.D{{Key: "_id", Value: id}}, newest); err != nil {
				return err
			}
		}
		r.since[view] = newest
	}
	return nil
}

// keepSpeedDoc decodes a speed document of view into speedRaw (unless its
// pane is before the horizon) and marks its pane dirty.
func (s *Server) keepSpeedDoc(view string, d *collections.Doc) error {
	r := &s.r
	if d.Pane.Before(r.horizon.Horizon) {
		return nil
	}
	key, err := s.paneKey(d.Pane)
	if err != nil {
		return err
	}
	parts := r.speedRaw[key]
	if parts == nil {
		parts = map[int32]*views.Pane{}
		r.speedRaw[key] = parts
	}
	p := parts[d.Partition]
	if p == nil {
		p = views.NewPane(0)
		parts[d.Partition] = p
	}
	if err := p.Decode(view, d.State); err != nil {
		return err
	}
	r.dirty[key] = true
	return nil
}

// publish builds the snapshot: the speed layer with dirty panes re-merged
// across partitions and their hour blocks rebuilt, panes before the horizon
// dropped, and the current batch layer and status.
func (s *Server) publish(st statusSnapshot) *snapshot {
	r := &s.r
	horizon := r.horizon.Horizon
	h := int64(0)
	if !horizon.IsZero() {
		h = horizon.Unix()
	}
	speed := r.speed
	stale := false
	for k := range r.speedRaw {
		if k < h {
			stale = true
			break
		}
	}
	if len(r.dirty) > 0 || stale {
		speed = r.speed.clone()
		for k := range r.speedRaw {
			if k < h {
				delete(r.speedRaw, k)
				delete(r.dirty, k)
			}
		}
		speed.dropBefore(h)
		hours := map[int64]bool{}
		for k := range r.dirty {
			acc := views.NewPane(0)
			for _, p := range r.speedRaw[k] {
				acc.Merge(p)
			}
			speed.panes[k] = newState(acc)
			hours[hourOf(k)] = true
		}
		// An hour is complete once a pane of a later hour exists; one
		// that became complete without a new write gets its clusters
		// state now.
		var newest int64
		for k := range speed.panes {
			newest = max(newest, k)
		}
		for hr, st := range speed.hours {
			if st.pane.Clusters == nil && hr+hourSeconds <= newest {
				hours[hr] = true
			}
		}
		for hr := range hours {
			speed.rebuildHour(hr, s.paneSeconds(), hr+hourSeconds <= newest)
		}
		r.speed, r.dirty = speed, map[int64]bool{}
	}
	return &snapshot{
		horizon:   horizon,
		batch:     r.batch,
		speed:     speed,
		status:    st,
		refreshed: time.Now(),
	}
}

// paneKey returns the Unix second of a document's pane, refusing panes off
// the grid: they come from a writer with another --pane, and queries would
// never find them.
func (s *Server) paneKey(t time.Time) (int64, error) {
	k := t.Unix()
	if t.Nanosecond() != 0 || k%s.paneSeconds() != 0 {
		return 0, fmt.Errorf("pane %s is not on the %s grid (does the writer use another --pane?)", fmtTime(t), s.cfg.pane)
	}
	return k, nil
}

// badDoc counts and logs a document that could not be used; the refresh
// goes on with the others.
func (s *Server) badDoc(id string, err error) {
	s.metrics.badDocs.Inc()
	s.cfg.logger.Warn("skipping unreadable view document", "id", id, "err", err)
}

func (s *Server) paneSeconds() int64 { return int64(s.cfg.pane / time.Second) }

func hourOf(unix int64) int64 { return unix - unix%hourSeconds }
