package serving

import (
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// The answer cache. A dashboard asks the same few questions again and
// again, and between two refreshes nothing they read changes; most of the
// time nothing of their range changes for far longer (a range before the
// horizon changes only when batch runs). So each answer is kept with the
// question it answers, normalized (the range widened to whole panes, the
// defaults filled in), and the version of the data it was answered from.
// A repeated question over unchanged data costs a map lookup.
//
// Versions: every snapshot has a generation. A refresh that changes speed
// panes publishes a new generation and records which panes changed
// (snapshot.changes); a refresh that reads a new batch layer or a new
// lake summary bumps the batch generation, which every answer depends on.
// An answer of generation g over the panes [lo, hi) stays valid while no
// change after g touches [lo, hi): a new speed pane invalidates only the
// answers whose range holds it.

// answerKey is a normalized question: the view, the range as answered
// (Unix seconds, whole panes), the step in seconds, the number of terms
// or clusters, and the filters.
type answerKey struct {
	view            string
	from, to, step  int64
	k               int
	level, instance string
}

// answerEntry is a cached answer: the answer (never changed once stored),
// the data it read and its version, the answer's JSON body and ETag,
// encoded on the first HTTP request that needs it, and its gRPC response
// message, built on the first call that needs it.
type answerEntry struct {
	ans any
	// lo and hi are the panes the answer read (patterns also read the
	// period before the range).
	lo, hi   int64
	gen      uint64
	batchGen uint64
	body     atomic.Pointer[encodedAnswer]
	msg      atomic.Pointer[any]
}

// encodedAnswer is an answer's JSON body, newline ended, and its ETag header
// value (a strong validator: a hash of the body), both shared by every
// response that writes them and never changed.
type encodedAnswer struct {
	body []byte
	etag []string
	// view is the body as gRPC's View answers it, built by the first
	// call that needs it (a Struct parsed from the body: kept, a repeated
	// View call of a cached answer parses nothing).
	view atomic.Pointer[llv1.ViewResponse]
}

// jsonBody returns e's encoded body, encoding body() on the first call
// (concurrent first calls may each encode it; one is kept).
func (e *answerEntry) jsonBody(body func() any) (*encodedAnswer, error) {
	if b := e.body.Load(); b != nil {
		return b, nil
	}
	b, err := encodeBody(body())
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	_, _ = h.Write(b)
	enc := &encodedAnswer{body: b, etag: []string{fmt.Sprintf(`"%016x"`, h.Sum64())}}
	e.body.Store(enc)
	return enc, nil
}

// changeLog is how many publishes' changes a snapshot keeps; an answer
// older than all of them is recomputed. At one publish a second it covers
// minutes, far longer than a dashboard's poll.
const changeLog = 256

// change is the speed panes one publish changed: [lo, hi), Unix seconds.
type change struct {
	gen    uint64
	lo, hi int64
}

// valid reports whether e still answers over sn: same batch data, and no
// speed change since e's generation within the panes e read.
func (e *answerEntry) valid(sn *snapshot) bool {
	if e.batchGen != sn.batchGen || e.gen > sn.gen {
		return false
	}
	if e.gen == sn.gen {
		return true
	}
	if len(sn.changes) == 0 || sn.changes[0].gen > e.gen+1 {
		return false // changes since e were dropped from the log
	}
	for i := len(sn.changes) - 1; i >= 0 && sn.changes[i].gen > e.gen; i-- {
		if c := sn.changes[i]; c.lo < e.hi && e.lo < c.hi {
			return false
		}
	}
	return true
}

// answerCacheSize bounds the answers kept. A dashboard asks about ten
// questions per range; when full, an arbitrary answer makes room (the
// map's iteration order), which costs nothing and keeps the bound.
const answerCacheSize = 4096

// answerCache maps questions to answers. Safe for concurrent use.
type answerCache struct {
	mu sync.RWMutex
	m  map[answerKey]*answerEntry
	// flights are the questions being answered now (answerCache.join).
	flights map[answerKey]*flight
	// hits and misses count lookups, for metrics and tests.
	hits, misses atomic.Int64
}

func (c *answerCache) get(k answerKey, sn *snapshot) *answerEntry {
	if e := c.lookup(k, sn); e != nil {
		c.hits.Add(1)
		return e
	}
	c.misses.Add(1)
	return nil
}

// lookup is get without counting.
func (c *answerCache) lookup(k answerKey, sn *snapshot) *answerEntry {
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	if e != nil && e.valid(sn) {
		return e
	}
	return nil
}

// reset empties the cache: the next question of each kind is a first one
// (benchmarks of first answers).
func (c *answerCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// flight is one computation of an answer that requests asking the same
// question meanwhile wait for; e is its entry, nil when it failed, set
// before done is closed.
type flight struct {
	done chan struct{}
	e    *answerEntry
}

// join returns the flight computing k, and whether the caller leads it
// (started it, and must end it with land). A dashboard's questions cover
// the current pane, so every refresh that changes it invalidates them
// together: without flights each of the clients asking it then computes
// the same answer at once (8 clients: 8 merges of a day, where one does),
// the p99 of every cached endpoint under ci/scale.sh.
func (c *answerCache) join(k answerKey) (*flight, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.flights[k]; f != nil {
		return f, false
	}
	if c.flights == nil {
		c.flights = make(map[answerKey]*flight)
	}
	f := &flight{done: make(chan struct{})}
	c.flights[k] = f
	return f, true
}

// land ends the flight f of k with its entry (nil: it failed).
func (c *answerCache) land(k answerKey, f *flight, e *answerEntry) {
	c.mu.Lock()
	delete(c.flights, k)
	c.mu.Unlock()
	f.e = e
	close(f.done)
}

func (c *answerCache) put(k answerKey, e *answerEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[answerKey]*answerEntry)
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= answerCacheSize {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = e
}

// cachedBucket returns the figures of one bucket of a series over sn
// (k: the view and the bucket's range), the cached ones while no change
// touched the bucket, else compute's. A series over a day whose last
// hour changes every second (a speed change invalidates its whole hour,
// whose block it changes) then recounts that hour's buckets alone, 4 of
// the 96 of a 15-minute step (each a merge of 15 panes' sketches). Kept
// apart from the answers, out of their hit and miss counts.
func cachedBucket[A any](s *Server, sn *snapshot, k answerKey, compute func() A) A {
	if e := s.buckets.get(k, sn); e != nil {
		return e.ans.(A)
	}
	a := compute()
	s.buckets.put(k, &answerEntry{ans: a, lo: k.from, hi: k.to, gen: sn.gen, batchGen: sn.batchGen})
	return a
}

// cachedAnswer returns the answer to k over the current snapshot: the
// cached one when still valid, else compute's over that snapshot, which
// reads the panes [lo, hi). Errors are not cached. While one request
// computes an answer, the others asking the same question wait for it and
// take it if it is valid over the snapshot they would read (a refresh
// may have published a newer one meanwhile: they then compute their own).
func cachedAnswer[A any](s *Server, k answerKey, lo, hi int64, compute func(sn *snapshot) (A, error)) (A, *answerEntry, error) {
	sn := s.snap.Load()
	if e := s.answers.get(k, sn); e != nil {
		s.metrics.answerHits.Inc()
		return e.ans.(A), e, nil
	}
	f, lead := s.answers.join(k)
	if !lead {
		<-f.done
		if sn = s.snap.Load(); f.e != nil && f.e.valid(sn) {
			s.metrics.answerHits.Inc()
			s.answers.hits.Add(1)
			return f.e.ans.(A), f.e, nil
		}
	}
	var e *answerEntry
	if lead {
		defer func() { s.answers.land(k, f, e) }()
		// The flight before this one may have stored the answer and
		// landed between this request's lookup and its join.
		if e = s.answers.lookup(k, sn); e != nil {
			return e.ans.(A), e, nil
		}
	}
	s.metrics.answerMisses.Inc()
	a, err := compute(sn)
	if err != nil {
		return a, nil, err
	}
	e = &answerEntry{ans: a, lo: lo, hi: hi, gen: sn.gen, batchGen: sn.batchGen}
	s.answers.put(k, e)
	return a, e, nil
}
