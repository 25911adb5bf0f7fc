package serving

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
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
	// speedRaw holds the speed documents' states per pane (Unix seconds),
	// partition and view, encoded as read; speed holds their merge across
	// partitions, as published. Encoded, not decoded: before batch's
	// first horizon it holds every pane of the history (a week's catch-up:
	// 10,080 panes times the partitions), and a decoded partition pane
	// holds 5.7 times its encoding in Go's heap (270 MB against 47 MB for
	// 2,000 of a 168 h demo's); publish decodes a dirty pane's partitions
	// again to merge them.
	speedRaw map[int64]map[speedPart][]byte
	// final are the speed panes whose speedRaw was dropped (finalRaw):
	// their hour is complete and every partition's watermark is past
	// them, so speed writes them again only when it replays (a restart).
	// A document of one read again changed makes the refresh read every
	// partition's documents of the pane again (rereadFinal), since a
	// merge across partitions needs them all.
	final map[int64]bool
	// reread are the final panes to read again whole this refresh.
	reread map[int64]bool
	// pending are the pane writes listed but left for the next refreshes,
	// beyond a tick's budget (tickWrites, tickTime), oldest pane first.
	pending []paneWrite
	// tickWrites and tickTime are a refresh's budget of pane writes
	// (the constants tickWrites and tickTime; tests lower them).
	tickWrites int
	tickTime   time.Duration
	speed      layer
	// since is, per view, the newest `updated` read from its speed
	// collection; the next refresh reads from there minus the margin.
	since map[string]time.Time
	// dirty are the speed panes read since the last publish.
	dirty map[int64]bool
	// checkpoints are, per partition, the Updated of the checkpoint the
	// last read of the speed documents started from.
	checkpoints map[int32]time.Time
	// watermarks are, per partition, the watermark of that checkpoint.
	watermarks map[int32]time.Time
	// gen, batchGen and changes are the data version of the snapshots
	// (answers.go); lakeDigest is the lake summary's digest last read.
	gen, batchGen uint64
	changes       []change
	lakeDigest    string
	// read is the Updated of every speed document kept in speedRaw,
	// so that one read again (the refresh margin) and unchanged is not
	// decoded again, nor its pane marked changed.
	read map[speedDocKey]time.Time
	// wholeReads and hoursRead count the batch reads: of every document,
	// and of recomputed hours by _id; tierStates the hour and day states
	// taken from batch's tiers rather than merged from panes.
	wholeReads, hoursRead, tierStates int
	// scans counts the refreshes that scanned the speed collections.
	scans int
	// generation is the views' contract generation served; 0 before the
	// first refresh.
	generation int64
}

// speedPart is a speed document of a pane: its partition and view.
type speedPart struct {
	partition int32
	view      string
}

// speedDocKey identifies a speed document: view, pane and partition.
type speedDocKey struct {
	view      string
	pane      int64
	partition int32
}

func newRefresher() refresher {
	return refresher{
		read:     map[speedDocKey]time.Time{},
		batch:    newLayer(),
		speedRaw: map[int64]map[speedPart][]byte{},
		final:    map[int64]bool{},
		reread:   map[int64]bool{},
		speed:    newLayer(),
		since:    map[string]time.Time{},
		dirty:    map[int64]bool{},

		checkpoints: map[int32]time.Time{},
		watermarks:  map[int32]time.Time{},
		tickWrites:  tickWrites,
		tickTime:    tickTime,
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
	took := time.Since(start)
	s.metrics.refreshDuration.Observe(took.Seconds())
	s.costs.done(took)
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
	tk, err := s.readTick(ctx)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	s.followGeneration(tk.generation)
	m, cps, blocked := tk.meta, tk.checkpoints, tk.blocked
	if collections.CurrentGeneration(m.horizon.Generation) != r.generation {
		// Batch has not recomputed under the served generation yet: no
		// batch views (speed's of this generation only, until it has).
		m.horizon = collections.HorizonDoc{}
	}
	if !r.loaded || !m.horizon.Horizon.Equal(r.horizon.Horizon) || !m.horizon.Updated.Equal(r.horizon.Updated) {
		batch, ok, err := s.readBatchChanged(ctx, r.loaded, r.horizon, m.horizon, r.batch)
		if err == nil && !ok {
			batch, err = s.readBatch(ctx, m.horizon.Horizon)
			s.metrics.batchReads.WithLabelValues("whole").Inc()
			r.wholeReads++
			s.costs.wholeReads.Add(1)
		} else if err == nil {
			s.metrics.batchReads.WithLabelValues("changed").Inc()
		}
		if err != nil {
			return fmt.Errorf("refresh: horizon %s: %w", fmtTime(m.horizon.Horizon), err)
		}
		if m.horizon.Horizon.Before(r.horizon.Horizon) {
			// The horizon moved back (batch state reset): speed panes
			// dropped as covered by batch are needed again, so read speed
			// from scratch.
			s.cfg.logger.Warn("batch horizon moved back; rereading speed views",
				"from", fmtTime(r.horizon.Horizon), "to", fmtTime(m.horizon.Horizon))
			r.speedRaw, r.speed, r.since, r.dirty = map[int64]map[speedPart][]byte{}, newLayer(), map[string]time.Time{}, map[int64]bool{}
			r.final, r.reread = map[int64]bool{}, map[int64]bool{}
			r.read = map[speedDocKey]time.Time{}
			r.checkpoints, r.watermarks = map[int32]time.Time{}, map[int32]time.Time{}
			r.pending = nil
		}
		r.batch, r.horizon, r.loaded = batch, m.horizon, true
		r.batchGen++
	}
	// Exact traffic is counted from the lake: a new lake summary (a
	// compaction) is new data for every answer.
	if d, _ := m.lake["digest"].(string); d != r.lakeDigest {
		r.lakeDigest = d
		r.batchGen++
	}
	if err := s.readSpeed(ctx, cps); err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	pubStart := time.Now()
	snap := s.publish(statusSnapshot{partitions: cps, lake: m.lake, blocked: blocked})
	s.costs.publish.Store(int64(time.Since(pubStart)))
	s.snap.Store(snap)
	s.metrics.setCache(snap)
	return nil
}

// tickReads is what every refresh reads before the view documents: the
// views' contract generation, the horizon and lake documents, the
// checkpoints and the blocked layers.
type tickReads struct {
	generation  int64
	meta        meta
	checkpoints []collections.Checkpoint
	blocked     []collections.LayerState
}

// readTick reads tickReads, its four queries at once: each is a round
// trip to the store, short in CPU but long in wall time when the cores
// are busy (every hop waits to be scheduled): one after the other they
// were 20 to 90 % of a tick that read a few panes (60 to 440 ms of 220
// to 540 ms, a 24 h demo's live feed on a shared 2-core machine, load
// average 20-28). Their order does not matter: a
// checkpoint is read before the documents it lists whichever way, and a
// horizon document of another generation than the one read is ignored.
func (s *Server) readTick(ctx context.Context) (tickReads, error) {
	var tk tickReads
	var wg sync.WaitGroup
	errs := make([]error, 4)
	wg.Go(func() { tk.generation, errs[0] = s.store.readGeneration(ctx) })
	wg.Go(func() { tk.meta, errs[1] = s.store.readMeta(ctx) })
	wg.Go(func() { tk.checkpoints, errs[2] = s.store.readCheckpoints(ctx) })
	wg.Go(func() { tk.blocked, errs[3] = s.store.readBlocked(ctx) })
	wg.Wait()
	return tk, errors.Join(errs...)
}

// followGeneration takes the views' contract generation g (readTick)
// and, when it is not the one served, drops every state read (both
// layers are read again, of the new generation only) and every cached
// answer: an answer never mixes two generations.
func (s *Server) followGeneration(g int64) {
	r := &s.r
	if g == r.generation {
		return
	}
	if r.generation != 0 {
		s.cfg.logger.Warn("a new generation of the views: serving it alone, read again", "was", r.generation, "generation", g)
		fresh := newRefresher()
		fresh.indexed = r.indexed
		fresh.gen, fresh.batchGen, fresh.changes = r.gen+1, r.batchGen+1, r.changes
		*r = fresh
	}
	r.generation = g
	s.store.gen.Store(g)
}

// readBatch reads the batch states of every pane before horizon into a new
// layer. Batch replaces whole hours when it recomputes them, so the layer is
// rebuilt rather than patched: a pane batch no longer has must disappear.
func (s *Server) readBatch(ctx context.Context, horizon time.Time) (layer, error) {
	l := newLayer()
	if horizon.IsZero() {
		return l, nil
	}
	panes := newEncodedPanes(s.spiller())
	for _, view := range views.Names {
		coll := collections.BatchCollection(view)
		filter := bson.D{{Key: "pane", Value: bson.D{{Key: "$lt", Value: horizon}}}}
		_, err := s.store.readViews(ctx, coll, filter, func(d *collections.Doc) error {
			key, err := s.paneKey(d.Pane)
			if err != nil {
				return err
			}
			return panes.add(view, key, d.State)
		}, s.badDoc)
		if err != nil {
			return l, err
		}
	}
	tiers := newTierSet()
	for _, view := range views.Names {
		filter := bson.D{{Key: "pane_end", Value: bson.D{{Key: "$lte", Value: horizon}}}}
		_, err := s.store.readViews(ctx, collections.TierCollection(view), filter, func(d *collections.Doc) error {
			return tiers.add(view, d, horizon.Unix())
		}, s.badDoc)
		if err != nil {
			return l, err
		}
	}
	tiers.keepWhole()
	hours := map[int64]bool{}
	for k, st := range panes.states(s.decoded) {
		l.panes[k] = st
		hours[hourOf(k)] = true
	}
	for h := range hours {
		l.rebuildHour(h, s.paneSeconds(), true, tiers.hours[h], s.decoded)
	}
	l.rebuildDays(hours, horizon.Unix(), tiers.days)
	s.r.tierStates += len(tiers.hours) + len(tiers.days)
	return l, nil
}

// maxHoursByID is the most recomputed hours a refresh reads by _id (a
// document per view and pane each, and the hour's clusters tier); more,
// as on the first batch run over a backfill, are read by scanning the
// batch collections.
const maxHoursByID = 24

// readBatchChanged updates the batch layer old, read for the horizon
// document prev, to the document cur by reading only the hours cur says
// were recomputed since prev (HorizonDoc.Hours and Recomputed): each
// pane's documents, every view's, and the hour's and its day's clusters
// tiers, by _id, which the embedded store finds through its index. A
// whole read (readBatch) scans every batch document, a cost that grows
// with history; this one grows with what batch changed. It returns false
// when it cannot: nothing read before, the horizon moved back, a document
// without the hours' list, or too many hours changed.
func (s *Server) readBatchChanged(ctx context.Context, loaded bool, prev, cur collections.HorizonDoc, old layer) (layer, bool, error) {
	if !loaded || prev.Horizon.IsZero() || cur.Horizon.Before(prev.Horizon) || len(cur.Hours) == 0 ||
		len(prev.Hours) != len(prev.Recomputed) || len(cur.Hours) != len(cur.Recomputed) {
		return layer{}, false, nil
	}
	was := make(map[int64]time.Time, len(prev.Hours))
	for i, h := range prev.Hours {
		was[h.Unix()] = prev.Recomputed[i]
	}
	horizon := cur.Horizon.Unix()
	var changed []int64
	touched := map[int64]bool{}
	for i, h := range cur.Hours {
		k := h.Unix()
		at, ok := was[k]
		delete(was, k)
		if k >= horizon || (ok && at.Equal(cur.Recomputed[i])) {
			continue
		}
		changed = append(changed, k)
		touched[k] = true
	}
	for k := range was {
		touched[k] = true // an hour batch no longer has (retention)
	}
	if len(changed) > maxHoursByID {
		return layer{}, false, nil
	}
	l := old.clone()
	pane := s.paneSeconds()
	for k := range touched {
		for p := k; p < k+hourSeconds; p += pane {
			delete(l.panes, p)
		}
		delete(l.hours, k)
		delete(l.days, k-mod(k, daySeconds))
	}
	// The reads: every view's document of every pane of the changed
	// hours, and their hour and day tiers.
	var reads []idRead
	days := map[int64]bool{}
	for _, k := range changed {
		for _, view := range views.Names {
			for p := k; p < k+hourSeconds; p += pane {
				reads = append(reads, idRead{coll: collections.BatchCollection(view), id: collections.DocID(view, time.Unix(p, 0), collections.BatchPartition), view: view, key: p})
			}
			reads = append(reads, idRead{coll: collections.TierCollection(view), id: collections.TierID(view, time.Unix(k, 0), time.Hour), view: view, tier: true})
		}
		days[k-mod(k, daySeconds)] = true
	}
	for d := range days {
		for _, view := range views.Names {
			reads = append(reads, idRead{coll: collections.TierCollection(view), id: collections.TierID(view, time.Unix(d, 0), 24*time.Hour), view: view, tier: true})
		}
	}
	panes := newEncodedPanes(s.spiller())
	tiers := newTierSet()
	err := s.readByID(ctx, reads, func(rd idRead, d *collections.Doc) error {
		if rd.tier {
			return tiers.add(rd.view, d, horizon)
		}
		return panes.add(rd.view, rd.key, d.State)
	})
	if err != nil {
		return layer{}, false, err
	}
	tiers.keepWhole()
	for k, st := range panes.states(s.decoded) {
		l.panes[k] = st
	}
	for _, k := range changed {
		l.rebuildHour(k, pane, true, tiers.hours[k], s.decoded)
	}
	// A touched day not re-read (an hour gone by retention) is merged
	// from its hours.
	l.rebuildDays(touched, horizon, tiers.days)
	s.r.tierStates += len(tiers.hours) + len(tiers.days)
	s.metrics.batchHoursRead.Add(float64(len(changed)))
	s.r.hoursRead += len(changed)
	s.costs.hoursRead.Add(int64(len(changed)))
	return l, true, nil
}

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
		r.scans++
		s.costs.scans.Add(1)
	}
	if err != nil {
		return err
	}
	if err := s.rereadFinal(ctx, cps); err != nil {
		return err
	}
	for _, cp := range cps {
		r.checkpoints[cp.Partition] = cp.Updated
		r.watermarks[cp.Partition] = cp.Watermark
	}
	return nil
}

// rereadFinal reads again, by _id, every partition's documents of the
// final panes a changed document was read for (keepSpeedDoc), so that
// their merge has every partition's state again.
func (s *Server) rereadFinal(ctx context.Context, cps []collections.Checkpoint) error {
	r := &s.r
	if len(r.reread) == 0 {
		return nil
	}
	var reads []idRead
	for k := range r.reread {
		for _, view := range views.Names {
			for _, cp := range cps {
				if _, ok := r.speedRaw[k][speedPart{partition: cp.Partition, view: view}]; ok {
					continue // the changed document, just read
				}
				delete(r.read, speedDocKey{view: view, pane: k, partition: cp.Partition})
				reads = append(reads, idRead{coll: collections.SpeedCollection(view), id: collections.DocID(view, time.Unix(k, 0).UTC(), cp.Partition), view: view})
			}
		}
	}
	r.reread = map[int64]bool{}
	return s.readByID(ctx, reads, func(rd idRead, d *collections.Doc) error {
		return s.keepSpeedDoc(rd.view, d)
	})
}

// finalRaw drops speedRaw of the panes of l (speed's layer, published)
// that speed no longer writes: held encoded (their hour complete) and
// ending at or before every partition's watermark. Without it speedRaw
// held every partition's documents of every pane after the horizon: all
// of the history until batch's first horizon.
func (s *Server) finalRaw(l layer) {
	r := &s.r
	if len(r.watermarks) == 0 {
		return
	}
	var wm int64 = math.MaxInt64
	for _, w := range r.watermarks {
		if w.IsZero() {
			return // a checkpoint without a watermark: nothing is known final
		}
		wm = min(wm, w.Unix())
	}
	pending := map[int64]bool{} // a partition's document still to read
	for _, w := range r.pending {
		pending[w.Pane.Unix()] = true
	}
	for k := range r.speedRaw {
		if st := l.panes[k]; st != nil && st.pane == nil && k+s.paneSeconds() <= wm && !r.dirty[k] && !pending[k] {
			delete(r.speedRaw, k)
			r.final[k] = true
		}
	}
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
			// The list begins after the last read (a refresh slower than
			// collections.WrittenWindow, or a restarted speed layer):
			// every pane written since is one that was open, from the
			// watermark last read to the newest event time now.
			wm := r.watermarks[cp.Partition]
			if wm.IsZero() || cp.MaxEventTime.IsZero() {
				return nil, false
			}
			out = append(out, s.openSince(cp, wm)...)
			continue
		}
		from := seen.Add(-s.cfg.refreshMargin)
		for _, w := range cp.Written {
			if !w.At.Before(from) && !w.Pane.Before(r.horizon.Horizon) {
				out = append(out, paneWrite{partition: cp.Partition, PaneWrite: w})
			}
		}
	}
	// By _id however long the list: a lookup per document, where the scan
	// decodes every document of every speed collection, below the
	// horizon too. Under a 24 h catch-up (thousands of panes listed a
	// tick) the scan this fell back to took 664 s for one tick.
	return out, true
}

// openSince lists the panes of cp's partition that may have been written
// since a checkpoint with watermark wm: the panes open then or since,
// from the one holding wm to the one holding cp's newest event time.
// Speed writes no other (an event older than the watermark is dropped as
// late).
func (s *Server) openSince(cp collections.Checkpoint, wm time.Time) []paneWrite {
	pane := s.paneSeconds()
	from := wm.Unix() - mod(wm.Unix(), pane)
	var out []paneWrite
	for p := from; p <= cp.MaxEventTime.Unix(); p += pane {
		if p >= s.r.horizon.Horizon.Unix() || s.r.horizon.Horizon.IsZero() {
			out = append(out, paneWrite{partition: cp.Partition, PaneWrite: collections.PaneWrite{Pane: time.Unix(p, 0).UTC()}})
		}
	}
	return out
}

// tickWrites is how many pane writes (a document per view each) a
// refresh reads in one round, and tickTime how long it goes on reading
// rounds while more are listed; the others are read by the next
// refreshes, oldest pane first. Under a catch-up speed lists thousands of
// panes a second, and a refresh that read them all took minutes under
// load (640 s for 9,761 documents at 168 h, 2 cores shared), by which
// time the lists no longer reached back (WrittenWindow) and the next read
// every pane open since: each tick longer than the last. Bounded, a tick
// costs at most about tickTime and a round whatever the history and the
// backlog, and publishes what it read; the live feed lists a few panes a
// second, one round. A budget in time rather than in panes lets a tick
// read as much as the machine allows: a publish rebuilds the hour blocks
// of the panes read (decoding the hour's sealed panes again), so a round
// a tick, 64 panes spread over an hour or two, rebuilt each hour a dozen
// times during a catch-up, and serving ended thousands of pane writes
// behind speed (3,820 when a 24 h demo's speed had caught up, at 3.4 s
// a tick).
const (
	tickWrites = 64
	tickTime   = time.Second
)

// dueWrites merges writes with those left pending, keeps each pane's
// latest (a write of unknown time, from openSince, is read whatever was
// read before), drops panes before the horizon and writes already read,
// and orders them oldest pane first, then partition.
func (s *Server) dueWrites(writes []paneWrite) []paneWrite {
	r := &s.r
	type paneOf struct {
		partition int32
		pane      int64
	}
	latest := map[paneOf]paneWrite{}
	for _, w := range append(slices.Clip(r.pending), writes...) {
		k := paneOf{w.partition, w.Pane.Unix()}
		if old, ok := latest[k]; ok && (old.At.IsZero() || (!w.At.IsZero() && !w.At.After(old.At))) {
			continue
		}
		latest[k] = w
	}
	out := make([]paneWrite, 0, len(latest))
	for _, w := range latest {
		if w.Pane.Before(r.horizon.Horizon) {
			continue
		}
		read := !w.At.IsZero()
		for _, view := range views.Names {
			at, ok := r.read[speedDocKey{view: view, pane: w.Pane.Unix(), partition: w.partition}]
			read = read && ok && at.Equal(w.At)
		}
		if !read {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b paneWrite) int {
		if c := a.Pane.Compare(b.Pane); c != 0 {
			return c
		}
		return cmp.Compare(a.partition, b.partition)
	})
	return out
}

// readSpeedByID reads the documents of the panes written, every view's,
// by _id, but for those already read as written then: a write's time is
// its documents' Updated, so a document read with that Updated is the one
// written. The lists reach back the refresh margin (5 s) before the last
// checkpoint read, so at one refresh a second every write was listed, and
// read again, by about five refreshes. It reads rounds of r.tickWrites
// panes (oldest first) until r.tickTime has passed; the rest are left
// pending for the next refreshes.
func (s *Server) readSpeedByID(ctx context.Context, writes []paneWrite) error {
	r := &s.r
	start := time.Now()
	due := s.dueWrites(writes)
	newest := maps.Clone(r.since)
	for len(due) > 0 {
		round := due[:min(len(due), r.tickWrites)]
		var reads []idRead
		for _, view := range views.Names {
			for _, w := range round {
				dk := speedDocKey{view: view, pane: w.Pane.Unix(), partition: w.partition}
				if at, ok := r.read[dk]; ok && !w.At.IsZero() && at.Equal(w.At) {
					continue
				}
				reads = append(reads, idRead{coll: collections.SpeedCollection(view), id: collections.DocID(view, w.Pane, w.partition), view: view})
			}
		}
		err := s.readByID(ctx, reads, func(rd idRead, d *collections.Doc) error {
			if d.Updated.After(newest[rd.view]) {
				newest[rd.view] = d.Updated
			}
			return s.keepSpeedDoc(rd.view, d)
		})
		if err != nil {
			return err
		}
		due = due[len(round):]
		if time.Since(start) >= r.tickTime {
			break
		}
	}
	r.since, r.pending = newest, slices.Clone(due)
	s.costs.pending.Store(int64(len(due)))
	return nil
}

// idRead is a document to read by _id: its collection, _id, view and
// pane (Unix seconds), or a tier's (then key is unused).
type idRead struct {
	coll, id, view string
	key            int64
	tier           bool
}

// byIDReaders is how many reads by _id readByID has in flight: the store
// answers each from its index, and several at once hide the round trips.
// A round trip is short in CPU (a ~50 KB document: the store's SQLite
// row and JSON, the driver's BSON) but long in wall time when the cores
// are busy (a catch-up's speed layer in the same process, other
// processes): each hop waits for its goroutine to be scheduled. With 4
// a catch-up's refresh on a shared 2-core machine read 452 documents in
// 15 to 50 s, its readers waiting on the network, not working.
const byIDReaders = 16

// readByID reads the documents of reads by _id, byIDReaders at a time,
// and hands each found to fn, one at a time. A document fn rejects is
// reported through badDoc and skipped, as readViews does.
func (s *Server) readByID(ctx context.Context, reads []idRead, fn func(idRead, *collections.Doc) error) error {
	var mu sync.Mutex
	next := make(chan idRead)
	errs := make(chan error, byIDReaders)
	for range byIDReaders {
		go func() {
			var err error
			for rd := range next {
				if err != nil {
					continue
				}
				_, err = s.store.readViews(ctx, rd.coll, bson.D{{Key: "_id", Value: rd.id}}, func(d *collections.Doc) error {
					mu.Lock()
					defer mu.Unlock()
					return fn(rd, d)
				}, s.badDoc)
			}
			errs <- err
		}()
	}
	for _, rd := range reads {
		next <- rd
	}
	close(next)
	var err error
	for range byIDReaders {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return err
}

// keepSpeedDoc keeps a speed document of view in speedRaw (unless its
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
	dk := speedDocKey{view: view, pane: key, partition: d.Partition}
	if at, ok := r.read[dk]; ok && at.Equal(d.Updated) {
		return nil // read before, unchanged
	}
	if r.final[key] {
		// Written again (a replay): the other partitions' documents are
		// read again before the pane is merged.
		delete(r.final, key)
		r.reread[key] = true
	}
	// Decoded once here, so that a document that does not decode is
	// refused now (and kept out of speedRaw), as it is read.
	if err := views.NewPane(0).Decode(view, d.State); err != nil {
		return err
	}
	parts := r.speedRaw[key]
	if parts == nil {
		parts = map[speedPart][]byte{}
		r.speedRaw[key] = parts
	}
	parts[speedPart{partition: d.Partition, view: view}] = slices.Clone(d.State)
	r.read[dk] = d.Updated
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
	for k := range r.final { // final panes have no speedRaw left
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
		if stale {
			for k := range r.read {
				if k.pane < h {
					delete(r.read, k)
				}
			}
		}
		for k := range r.final {
			if k < h {
				delete(r.final, k)
			}
		}
		speed.dropBefore(h)
		// The dirty panes are merged hour by hour, each hour's sealed
		// once its block is built (sealHour), so that a tick of a
		// catch-up (thousands of documents) holds one hour's panes
		// decoded at a time, not all it read (~300 KB each).
		hours := map[int64]bool{}
		dirtyIn := map[int64][]int64{}
		for k := range r.dirty {
			hours[hourOf(k)] = true
			dirtyIn[hourOf(k)] = append(dirtyIn[hourOf(k)], k)
		}
		// An hour is complete once a pane of a later hour exists; one
		// that became complete without a new write gets its clusters
		// state now.
		var newest int64
		for k := range speed.panes {
			newest = max(newest, k)
		}
		for k := range r.dirty {
			newest = max(newest, k)
		}
		for hr, st := range speed.hours {
			if st.pane.Clusters == nil && hr+hourSeconds <= newest {
				hours[hr] = true
			}
		}
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for k := range r.dirty {
			lo, hi = min(lo, k), max(hi, k+s.paneSeconds())
		}
		for hr := range hours {
			for _, k := range dirtyIn[hr] {
				speed.panes[k] = newState(s.mergeSpeedRaw(k, r.speedRaw[k]))
			}
			complete := hr+hourSeconds <= newest
			speed.rebuildHour(hr, s.paneSeconds(), complete, nil, s.decoded)
			if complete {
				s.sealHour(speed, hr)
			}
			// A clusters answer reads the whole hour's state.
			lo, hi = min(lo, hr), max(hi, hr+hourSeconds)
		}
		speed.rebuildDays(hours, newest, nil)
		r.speed, r.dirty = speed, map[int64]bool{}
		s.finalRaw(speed)
		r.gen++
		r.changes = append(r.changes, change{gen: r.gen, lo: lo, hi: hi})
		if len(r.changes) > changeLog {
			r.changes = slices.Clone(r.changes[len(r.changes)-changeLog:])
		}
	}
	return &snapshot{
		horizon:   horizon,
		batch:     r.batch,
		speed:     speed,
		status:    st,
		refreshed: time.Now(),
		gen:       r.gen,
		batchGen:  r.batchGen,
		changes:   r.changes,
	}
}

// sealHour holds the panes of the complete hour hr of l encoded (state):
// the hour's block answers for them but at a range's edges and in steps
// finer than an hour. A pane that does not encode stays decoded.
func (s *Server) sealHour(l layer, hr int64) {
	var sp *spiller
	for p := hr; p < hr+hourSeconds; p += s.paneSeconds() {
		st := l.panes[p]
		if st == nil || st.pane == nil {
			continue
		}
		if sp == nil {
			sp = s.spiller() // one file for the hour's panes
		}
		sealed, err := s.decoded.seal(sp, st)
		if err != nil {
			s.cfg.logger.Warn("pane kept decoded", "pane", fmtTime(time.Unix(p, 0)), "err", err)
			continue
		}
		l.panes[p] = sealed
	}
}

// mergeSpeedRaw decodes the speed documents of pane k, partition by
// partition, and returns their merge. Each decoded when read
// (keepSpeedDoc), they decode again; one that does not is counted and left
// out, as a document that does not decode when read.
func (s *Server) mergeSpeedRaw(k int64, raw map[speedPart][]byte) *views.Pane {
	parts := map[int32]*views.Pane{}
	for sp, data := range raw {
		p := parts[sp.partition]
		if p == nil {
			p = views.NewPane(0)
			parts[sp.partition] = p
		}
		if err := p.Decode(sp.view, data); err != nil {
			s.badDoc(collections.DocID(sp.view, time.Unix(k, 0).UTC(), sp.partition), err)
		}
	}
	acc := views.NewPane(0)
	for _, p := range parts {
		acc.Merge(p)
	}
	return acc
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

// spiller returns a new spill file for pane encodings (SpillDir), or nil
// to hold them in memory.
func (s *Server) spiller() *spiller {
	return newSpiller(s.cfg.spillDir, func(msg string, err error) { s.cfg.logger.Warn(msg, "err", err) })
}

func (s *Server) paneSeconds() int64 { return int64(s.cfg.pane / time.Second) }

func hourOf(unix int64) int64 { return unix - unix%hourSeconds }
