package serving

import (
	"context"
	"time"
)

// Frame is what every answer with a series shares: the range answered
// (the asked one widened to whole panes), the bucket width, where batch
// ended and speed began (zero when batch has never run), and whether
// every pane of the range came from batch, so the answer is final.
type Frame struct {
	From, To     time.Time
	Step         time.Duration
	BatchHorizon time.Time
	Exact        bool
}

// frameBody is Frame in the JSON bodies (embedded: its fields stand beside
// the view's own).
type frameBody struct {
	From         string  `json:"from"`
	To           string  `json:"to"`
	Step         string  `json:"step"`
	BatchHorizon *string `json:"batch_horizon"`
	Exact        bool    `json:"exact"`
}

func (f Frame) body() frameBody {
	return frameBody{From: fmtTime(f.From), To: fmtTime(f.To), Step: f.Step.String(),
		BatchHorizon: jsonTime(f.BatchHorizon), Exact: f.Exact}
}

// series is a query range cut into step-wide buckets over one snapshot of
// the cache: where traffic, levels, clusters and patterns start from, so
// the range, step and lambda rules are checked and applied in one place.
type series struct {
	sp   span
	step int64 // seconds
	sn   *snapshot
	pane int64 // seconds
}

// series checks r and step (span, checkStep); the snapshot is the
// caller's to set (cachedAnswer's).
func (s *Server) series(r Range, step time.Duration) (series, error) {
	sp, err := s.span(r)
	if err != nil {
		return series{}, err
	}
	st, err := s.checkStep(step, sp)
	if err != nil {
		return series{}, err
	}
	return series{sp: sp, step: st, pane: s.paneSeconds()}, nil
}

// key is the normalized question of a view over the series' range and
// step.
func (q series) key(view string) answerKey {
	return answerKey{view: view, from: q.sp.from, to: q.sp.to, step: q.step}
}

// on returns the series over sn.
func (q series) on(sn *snapshot) series {
	q.sn = sn
	return q
}

// frame is the Frame of the answer over the series' range.
func (q series) frame() Frame {
	return Frame{From: q.sp.fromTime(), To: q.sp.toTime(), Step: time.Duration(q.step) * time.Second,
		BatchHorizon: q.sn.horizon, Exact: q.sn.exact(q.sp)}
}

// buckets yields, for each step-aligned bucket overlapping the range, its
// start (Unix seconds) and the part of the range it covers.
func (q series) buckets(yield func(start int64, part span) bool) {
	for b := q.sp.from - mod(q.sp.from, q.step); b < q.sp.to; b += q.step {
		if !yield(b, span{from: max(b, q.sp.from), to: min(b+q.step, q.sp.to)}) {
			return
		}
	}
}

// states yields each bucket's start with the pane states tiling it (the
// lambda merge of statesIn); the slice is reused from one bucket to the
// next.
func (q series) states(yield func(start int64, states []*state) bool) {
	var buf []*state
	for b, part := range q.buckets {
		buf = q.sn.statesIn(buf[:0], part.from, part.to, q.pane)
		if !yield(b, buf) {
			return
		}
	}
}

// quarterStates is states with the quarter blocks of complete hours
// (quarterStatesIn), for quarterView's views.
func (q series) quarterStates(yield func(start int64, states []*state) bool) {
	var buf []*state
	for b, part := range q.buckets {
		buf = q.sn.quarterStatesIn(buf[:0], part.from, part.to, q.pane)
		if !yield(b, buf) {
			return
		}
	}
}

// noCtx adapts a query that needs no context to plainJSON.
func noCtx[Q, A any](f func(Q) (A, error)) func(context.Context, Q) (A, error) {
	return func(_ context.Context, q Q) (A, error) { return f(q) }
}

// noCtxEntry adapts a cached query that needs no context to cachedJSON.
func noCtxEntry[Q, A any](f func(Q) (A, *answerEntry, error)) func(context.Context, Q) (A, *answerEntry, error) {
	return func(_ context.Context, q Q) (A, *answerEntry, error) { return f(q) }
}
