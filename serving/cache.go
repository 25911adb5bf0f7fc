package serving

import (
	"container/list"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// hourSeconds is the width of an hour block. Panes divide an hour and the
// batch horizon is the end of a recomputed hour, so an hour is never split
// between batch and speed.
const hourSeconds = int64(time.Hour / time.Second)

// state is the merged view state of one pane or one hour block, immutable
// once published in a snapshot: requests merge it into their own
// accumulators and never change it.
//
// A pane of a complete hour is held encoded (enc, pane nil): a query over
// whole hours reads their blocks and none of their panes, and only a
// range's edges and steps finer than an hour read panes, view by view
// (of), through the bounded decodeCache. Decoded, a 1-minute pane of the
// demo holds about 300 KB of Go heap, its encoding about a sixth of that:
// every pane of a day decoded was ~450 MB, of a week ~3 GB.
type state struct {
	pane *views.Pane
	enc  *encoded
	// uv and ips are Traffic.UVCount and IPCount, computed once at refresh
	// because an HLL estimate costs far more than reading two numbers, and a
	// traffic series with one bucket per pane reads them for every bucket.
	uv, ips int64
	// regs are the traffic figures and sparse sketches' registers prepared
	// for merging (views.PrepareTraffic): a bucket of a series merges every
	// pane state it holds, and when regs are Whole it reads nothing else
	// of the state (a sealed pane's traffic is not decoded).
	regs *views.TrafficRegs
	// paths are the paths view's counts prepared for views.TopPathsCounted
	// (the paths interned): set on the blocks of complete hours and days
	// and on quarter blocks, which many answers read, nil elsewhere (a
	// pane, read at a range's edges, is counted by its paths).
	paths *views.PathCounts
}

// pv is the state's page views.
func (st *state) pv() int64 {
	if st.regs != nil {
		return st.regs.PV()
	}
	return st.of(views.ViewTraffic).Traffic.PV
}

// newState seals p (which the caller no longer changes) into a state.
func newState(p *views.Pane) *state {
	return &state{pane: p, uv: p.Traffic.UVCount(), ips: p.Traffic.IPCount(), regs: views.PrepareTraffic(p.Traffic)}
}

// newBlock is newState of a complete block (hour, day or quarter), its
// paths' counts prepared.
func newBlock(p *views.Pane) *state {
	st := newState(p)
	if p.Paths != nil {
		st.paths = p.Paths.Counts()
	}
	return st
}

// of returns a pane holding view's state (views.Names): the pane itself
// when held decoded, else view's state alone, decoded through the cache.
// A quarter block holds both: quarterView's views decoded, the paths view
// encoded (rebuildQuarters).
func (st *state) of(view string) *views.Pane {
	if st.pane != nil && (st.enc == nil || quarterView(view)) {
		return st.pane
	}
	return st.enc.cache.get(st.enc, viewIndex(view))
}

// full returns every view's state: the pane, or a decode of the encoding
// the caller owns (not cached: hour blocks are rebuilt from it once).
func (st *state) full() *views.Pane {
	if st.pane != nil {
		return st.pane
	}
	p := &views.Pane{}
	for i, name := range views.Names {
		st.enc.decode(p, name, i)
	}
	return p
}

// encoded is a pane's states in their binary encoding, by view (the order
// of views.Names), and the cache that decodes them. A view's encoding is
// in views, or, when views holds nil for it and spans does not, in the
// spill file at its extent (spill.go).
type encoded struct {
	views [][]byte
	spans []extent
	file  *os.File
	cache *decodeCache
}

// decode decodes view name (index i) into p. The encoding was decoded
// once before (a document when read, or a pane the server encoded
// itself), so it decodes again; should it not, the view stays empty and
// the document is counted bad, as when read.
func (e *encoded) decode(p *views.Pane, name string, i int) {
	b, err := e.bytes(i)
	if err == nil {
		err = p.Decode(name, b)
	}
	if err != nil {
		e.cache.bad(name, err)
		empty, _ := views.NewPane(0).Encode(name)
		_ = p.Decode(name, empty)
	}
}

// only returns a pane holding at least the views named: the pane itself
// when held decoded, else those views decoded from the encoding (not
// cached: a quarter block is built from them once).
func (st *state) only(names ...string) *views.Pane {
	if st.pane != nil {
		return st.pane
	}
	p := &views.Pane{}
	for _, name := range names {
		st.enc.decode(p, name, viewIndex(name))
	}
	return p
}

// viewIndex returns the index of view in views.Names (a handful: a scan).
func viewIndex(view string) int {
	for i, n := range views.Names {
		if n == view {
			return i
		}
	}
	panic("serving: unknown view " + view)
}

// seal returns st held encoded (st itself when it already is), its
// encodings written to sp (nil: held in memory).
func (c *decodeCache) seal(sp *spiller, st *state) (*state, error) {
	if st.pane == nil {
		return st, nil
	}
	enc := make([][]byte, len(views.Names))
	for i, name := range views.Names {
		b, err := st.pane.Encode(name)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", name, err)
		}
		enc[i] = b
	}
	return &state{enc: newEncoded(sp, enc, c), uv: st.uv, ips: st.ips, regs: st.regs}, nil
}

// encodedPanes collects the documents of panes as read, view by view,
// into their encodings: each is decoded once to refuse a document that
// does not decode (and traffic's for the pane's distinct counts), and
// none is kept decoded, so that a whole read of batch holds no more than
// the encodings; with a spiller, written to its file as read, not even
// those (a week of batch panes is ~1 GB of encodings).
type encodedPanes struct {
	raw     map[int64][][]byte
	spans   map[int64][]extent
	sp      *spiller
	uv, ips map[int64]int64
	regs    map[int64]*views.TrafficRegs
}

func newEncodedPanes(sp *spiller) *encodedPanes {
	return &encodedPanes{raw: map[int64][][]byte{}, spans: map[int64][]extent{}, sp: sp,
		uv: map[int64]int64{}, ips: map[int64]int64{}, regs: map[int64]*views.TrafficRegs{}}
}

// add takes view's document state data of pane key (copied).
func (e *encodedPanes) add(view string, key int64, data []byte) error {
	p := &views.Pane{}
	if err := p.Decode(view, data); err != nil {
		return err
	}
	if view == views.ViewTraffic {
		e.uv[key], e.ips[key] = p.Traffic.UVCount(), p.Traffic.IPCount()
		e.regs[key] = views.PrepareTraffic(p.Traffic)
	}
	enc := e.raw[key]
	if enc == nil {
		enc = make([][]byte, len(views.Names))
		e.raw[key] = enc
	}
	i := viewIndex(view)
	if at, ok := e.sp.put(data); ok {
		spans := e.spans[key]
		if spans == nil {
			spans = make([]extent, len(views.Names))
			e.spans[key] = spans
		}
		spans[i] = at
		enc[i] = nil // a document read twice: the latest wins
		return nil
	}
	if spans := e.spans[key]; spans != nil {
		spans[i] = extent{}
	}
	enc[i] = slices.Clone(data)
	return nil
}

// states returns the panes read as states held encoded, a view without a
// document holding the empty state of views.NewPane(0).
func (e *encodedPanes) states(c *decodeCache) map[int64]*state {
	empty := make([][]byte, len(views.Names))
	for i, name := range views.Names {
		empty[i], _ = views.NewPane(0).Encode(name)
	}
	emptyRegs := views.PrepareTraffic(views.NewPane(0).Traffic)
	out := make(map[int64]*state, len(e.raw))
	for k, enc := range e.raw {
		spans := e.spans[k]
		for i := range enc {
			if enc[i] == nil && (spans == nil || spans[i].n == 0) {
				enc[i] = empty[i]
			}
		}
		regs := e.regs[k]
		if regs == nil { // no traffic document: the empty state's
			regs = emptyRegs
		}
		out[k] = &state{enc: &encoded{views: enc, spans: spans, file: e.sp.file(), cache: c}, uv: e.uv[k], ips: e.ips[k], regs: regs}
	}
	return out
}

// decodeCache holds the panes' views last decoded (state.of), least
// recently used first out, up to maxBytes of their encodings (a decoded
// state is several times its encoding). It is shared by the snapshots;
// an entry outlives its pane's snapshot until pushed out.
type decodeCache struct {
	maxBytes int
	bad      func(view string, err error)

	mu      sync.Mutex
	size    int
	lru     *list.List // of *decodeEntry, most recent first
	entries map[decodeKey]*list.Element
	// decodes counts the views decoded (misses), hits the others.
	decodes, hits int64
}

type decodeKey struct {
	enc  *encoded
	view int
}

type decodeEntry struct {
	key  decodeKey
	pane *views.Pane
}

// defaultDecodeBytes bounds the decode cache: 16 MiB of encodings, about
// 300 one-minute panes' views of the demo, ~100 MB decoded.
const defaultDecodeBytes = 16 << 20

func newDecodeCache(maxBytes int, bad func(view string, err error)) *decodeCache {
	return &decodeCache{maxBytes: maxBytes, bad: bad, lru: list.New(), entries: map[decodeKey]*list.Element{}}
}

// get returns a pane holding the decode of e's view i.
func (c *decodeCache) get(e *encoded, i int) *views.Pane {
	k := decodeKey{e, i}
	c.mu.Lock()
	if el, ok := c.entries[k]; ok {
		c.lru.MoveToFront(el)
		c.hits++
		p := el.Value.(*decodeEntry).pane
		c.mu.Unlock()
		return p
	}
	c.mu.Unlock()
	p := &views.Pane{}
	e.decode(p, views.Names[i], i)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.decodes++
	if el, ok := c.entries[k]; ok { // decoded meanwhile by another request
		return el.Value.(*decodeEntry).pane
	}
	c.entries[k] = c.lru.PushFront(&decodeEntry{key: k, pane: p})
	c.size += e.size(i)
	for c.size > c.maxBytes && c.lru.Len() > 1 {
		old := c.lru.Remove(c.lru.Back()).(*decodeEntry)
		delete(c.entries, old.key)
		c.size -= old.key.enc.size(old.key.view)
	}
	return p
}

// counts returns the views decoded and the cache's hits.
func (c *decodeCache) counts() (decodes, hits int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.decodes, c.hits
}

// layer is one side of the horizon: per-pane states and, for every hour
// with at least one pane, the merge of that hour's panes, and for every
// complete UTC day, the merge of its hours (views.Block; batch's from the
// tiers batch stores, batch_<view>_tiers). A range is answered from day
// states, hour states and panes at its edges, so 7 days merge at most
// about 7 + 2*23 + 2*59 states, however many panes they hold.
//
// Complete hours also have quarter blocks of the views that are read
// bucket by bucket at their full cost (quarterView: clusters, patterns,
// levels): a series over a day in the dashboard's 15-minute steps reads 96
// of them rather than 1,440 panes, each pane's states decoded.
type layer struct {
	panes    map[int64]*state // by pane start, Unix seconds
	quarters map[int64]*state // by quarter start, Unix seconds: quarterView's views only
	hours    map[int64]*state // by hour start, Unix seconds
	days     map[int64]*state // by UTC day start, Unix seconds
}

func newLayer() layer {
	return layer{panes: map[int64]*state{}, quarters: map[int64]*state{}, hours: map[int64]*state{}, days: map[int64]*state{}}
}

// quarterSeconds is the width of a quarter block: the dashboard's step
// over a day (GET /v1/window?last=24h&points=96), and a divisor of its
// step over a week (6,300 s).
const quarterSeconds = 15 * 60

// quarterView reports whether view has quarter blocks: those whose state
// per bucket costs most to decode and read (a pane's clusters state holds
// up to 100 micro-clusters, ~19 KB encoded; its patterns ~2 KB; levels
// are small, but a day's 1,440 decodes of them were most of a levels
// series' first answer in 15-minute steps), and that are kept decoded:
// a quarter's clusters state is capped at views.TierMicroClusters as an
// hour's (~300 bytes each decoded), so a day's 96 quarters hold ~13 MB, a
// week's ~90 MB.
func quarterView(view string) bool {
	return view == views.ViewClusters || view == views.ViewPatterns || view == views.ViewLevels
}

// quarterViews are the views quarterView reports, in views.Names order.
func quarterViews() []string {
	var out []string
	for _, v := range views.Names {
		if quarterView(v) {
			out = append(out, v)
		}
	}
	return out
}

// clone returns a layer whose maps can be changed without touching l; the
// states themselves are shared, being immutable.
func (l layer) clone() layer {
	return layer{panes: maps.Clone(l.panes), quarters: maps.Clone(l.quarters), hours: maps.Clone(l.hours), days: maps.Clone(l.days)}
}

// rebuildHour recomputes the hour block starting at hour from the layer's
// panes, with the given pane width in seconds, or takes batch's stored
// tier of the hour when tier is not nil.
//
// The clusters state of an hour (a merge of its panes' micro-clusters,
// reduced: the costly part) and its quarter blocks are built only for a
// complete hour; an hour still filling (speed's current hour, rebuilt at
// every refresh) has none, and a query reads its panes (clustersIn). The
// quarter blocks' paths are decoded through c (rebuildQuarters).
func (l layer) rebuildHour(hour, paneSeconds int64, complete bool, tier *views.Pane, c *decodeCache) {
	var held []*state
	for p := hour; p < hour+hourSeconds; p += paneSeconds {
		if st := l.panes[p]; st != nil {
			held = append(held, st)
		}
	}
	var full map[*state]*views.Pane // the panes decoded for the hour's block
	switch {
	case len(held) == 0:
		delete(l.hours, hour)
	case tier != nil:
		l.hours[hour] = newBlock(tier)
	default:
		parts := make([]*views.Pane, len(held))
		full = make(map[*state]*views.Pane, len(held))
		for i, st := range held {
			parts[i] = st.full()
			full[st] = parts[i]
		}
		if complete {
			l.hours[hour] = newBlock(views.Block(time.Unix(hour, 0), parts, true))
		} else { // rebuilt at every refresh: its paths counted by each answer
			l.hours[hour] = newState(views.Block(time.Unix(hour, 0), parts, false))
		}
	}
	l.rebuildQuarters(hour, paneSeconds, complete, full, c)
}

// rebuildQuarters rebuilds the quarter blocks of hour (views.BlockOf of
// quarterViews, held decoded, and of the paths view, held encoded and
// decoded through c, its counts prepared) from the layer's panes, taking
// a pane's decode from full when there; an hour not complete, or panes
// that do not divide a quarter, have none.
//
// Paths are held encoded: decoded, a quarter's paths (~1,400 of the
// benchmark's day, each with two sketches) are ~440 KB, a day's 96
// quarters ~42 MB; encoded ~52 KB. A paths answer over a range cut on
// quarters reads at most 6 of them at its edges rather than 90 panes.
func (l layer) rebuildQuarters(hour, paneSeconds int64, complete bool, full map[*state]*views.Pane, c *decodeCache) {
	for q := hour; q < hour+hourSeconds; q += quarterSeconds {
		delete(l.quarters, q)
	}
	if !complete || quarterSeconds%paneSeconds != 0 {
		return
	}
	names := quarterViews()
	read := append(slices.Clone(names), views.ViewPaths)
	paths := viewIndex(views.ViewPaths)
	for q := hour; q < hour+hourSeconds; q += quarterSeconds {
		var parts []*views.Pane
		for p := q; p < q+quarterSeconds; p += paneSeconds {
			st := l.panes[p]
			switch {
			case st == nil:
			case full[st] != nil:
				parts = append(parts, full[st])
			default:
				parts = append(parts, st.only(read...))
			}
		}
		if len(parts) == 0 {
			continue
		}
		// Only quarterViews' states and paths: read by quarterStatesIn
		// and clustersIn alone.
		b := views.BlockOf(time.Unix(q, 0), parts, read...)
		qs := &state{pane: b, paths: b.Paths.Counts()}
		if data, err := b.Paths.MarshalBinary(); err == nil && c != nil {
			enc := make([][]byte, len(views.Names))
			enc[paths] = data
			qs.enc, b.Paths = newEncoded(nil, enc, c), nil
		}
		l.quarters[q] = qs
	}
}

// dropBefore removes every pane and hour block starting before t (Unix
// seconds): speed panes before the horizon are never read again.
func (l layer) dropBefore(t int64) int {
	n := 0
	for k := range l.panes {
		if k < t {
			delete(l.panes, k)
			n++
		}
	}
	for k := range l.quarters {
		if k < t {
			delete(l.quarters, k)
		}
	}
	for k := range l.hours {
		if k < t {
			delete(l.hours, k)
		}
	}
	for k := range l.days {
		if k < t {
			delete(l.days, k)
		}
	}
	return n
}

// daySeconds is the width of a day block: a UTC day.
const daySeconds = 24 * hourSeconds

// rebuildDays rebuilds the day block of every day holding one of hours,
// from the layer's hour blocks (or takes batch's stored tier of the day,
// from tiers), when the day ends at or before complete (Unix seconds: the
// horizon for batch, the newest pane for speed); a day not complete has no
// block, and a query reads its hours.
func (l layer) rebuildDays(hours map[int64]bool, complete int64, tiers map[int64]*views.Pane) {
	days := map[int64]bool{}
	for h := range hours {
		days[h-mod(h, daySeconds)] = true
	}
	for d := range days {
		delete(l.days, d)
		if d+daySeconds > complete {
			continue
		}
		var parts []*views.Pane
		for h := d; h < d+daySeconds; h += hourSeconds {
			if st := l.hours[h]; st != nil {
				parts = append(parts, st.full())
			}
		}
		switch {
		case len(parts) == 0:
		case tiers[d] != nil:
			l.days[d] = newBlock(tiers[d])
		default:
			l.days[d] = newBlock(views.Block(time.Unix(d, 0), parts, true))
		}
	}
}

// snapshot is everything a request reads: it is built by a refresh and
// then only read, so requests need no lock.
type snapshot struct {
	// horizon is the batch horizon; zero when batch has never run.
	horizon time.Time
	batch   layer
	speed   layer
	status  statusSnapshot
	// refreshed is when the refresh that built the snapshot finished.
	refreshed time.Time
	// gen is the data version (answers.go): it grows with every publish
	// that changed speed panes; batchGen with every new batch layer or
	// lake summary. changes are the last changeLog publishes' changed
	// panes, oldest first.
	gen, batchGen uint64
	changes       []change
}

// statusSnapshot is the operational state shown by /v1/status.
type statusSnapshot struct {
	partitions []collections.Checkpoint
	lake       map[string]any
	// blocked are the layer processes recorded as blocked in MongoDB
	// (a speed or batch running apart from this server).
	blocked []collections.LayerState
}

func emptySnapshot() *snapshot {
	return &snapshot{batch: newLayer(), speed: newLayer()}
}
