package serving

import (
	"context"
	"errors"
	"time"

	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/lakesql"
)

// TrafficQuery asks for the traffic of a range as a series of Step-wide
// buckets and as a total. The zero value asks for the last hour, one
// bucket per pane.
type TrafficQuery struct {
	Range
	// Step is the bucket width: a positive multiple of the pane; 0 means
	// the pane.
	Step time.Duration
}

// TrafficCounts are the traffic figures of a bucket or of the whole range.
type TrafficCounts struct {
	PV, UV, IPs int64
}

// TrafficPoint is one bucket of the series, starting at T.
type TrafficPoint struct {
	T time.Time
	TrafficCounts
}

// TrafficAnswer is the answer to a TrafficQuery, the same over HTTP and
// gRPC.
type TrafficAnswer struct {
	// From and To are the range answered: the asked one widened to whole
	// panes.
	From, To time.Time
	Step     time.Duration
	// Series has one point per step-aligned bucket overlapping the range,
	// empty buckets included, so a chart has no gaps.
	Series []TrafficPoint
	// Total counts distinct users and IPs over the whole range, not the
	// sum of the buckets'.
	Total TrafficCounts
	// BatchHorizon is where batch ended and speed began; zero when batch
	// has never run.
	BatchHorizon time.Time
	// Exact is set when every pane came from batch. UV and IPs are then
	// counted from the lake's rows when the server can read the lake (see
	// exact.go); without it they are exact only where a bucket (or the
	// total) is a single batch pane, HyperLogLog estimates elsewhere.
	Exact bool
}

// Traffic answers the series and total of the range. A bad parameter is an
// error whose message names it and its value.
func (s *Server) Traffic(ctx context.Context, q TrafficQuery) (*TrafficAnswer, error) {
	sp, err := s.span(q.Range)
	if err != nil {
		return nil, err
	}
	step, err := s.checkStep(q.Step, sp)
	if err != nil {
		return nil, err
	}
	sn := s.snap.Load()
	pane := s.paneSeconds()
	ans := &TrafficAnswer{
		From:         sp.fromTime(),
		To:           sp.toTime(),
		Step:         time.Duration(step) * time.Second,
		BatchHorizon: sn.horizon,
		Exact:        sn.exact(sp),
	}
	var buf []*state
	for b := sp.from - mod(sp.from, step); b < sp.to; b += step {
		lo, hi := max(b, sp.from), min(b+step, sp.to)
		buf = sn.statesIn(buf[:0], lo, hi, pane)
		ans.Series = append(ans.Series, TrafficPoint{T: time.Unix(b, 0).UTC(), TrafficCounts: countTraffic(buf)})
	}
	ans.Total = countTraffic(sn.statesIn(buf[:0], sp.from, sp.to, pane))
	if ans.Exact && s.sql != nil {
		ex, err := s.exactTrafficOf(ctx, sn, sp, step)
		if err != nil {
			// The panes' figures stand: PV exact, UV and IPs merged
			// sketches, as documented for a server without the lake.
			if !errors.Is(err, lakesql.ErrNoLake) {
				s.cfg.logger.Warn("exact distinct counts unavailable, answering with sketches", "err", err)
			}
			return ans, nil
		}
		for i := range ans.Series {
			ans.Series[i].TrafficCounts = ex.series[ans.Series[i].T.Unix()]
		}
		ans.Total = ex.total
	}
	return ans, nil
}

// countTraffic merges the traffic of states; a single state answers from
// the figures computed at refresh.
func countTraffic(states []*state) TrafficCounts {
	switch len(states) {
	case 0:
		return TrafficCounts{}
	case 1:
		st := states[0]
		return TrafficCounts{PV: st.pane.Traffic.PV, UV: st.uv, IPs: st.ips}
	}
	acc := views.NewMergeTraffic()
	for _, st := range states {
		acc.Merge(st.pane.Traffic)
	}
	return TrafficCounts{PV: acc.PV, UV: acc.UVCount(), IPs: acc.IPCount()}
}
