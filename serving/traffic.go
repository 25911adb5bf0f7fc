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
	Frame
	// Series has one point per step-aligned bucket overlapping the range,
	// empty buckets included, so a chart has no gaps.
	Series []TrafficPoint
	// Total counts distinct users and IPs over the whole range, not the
	// sum of the buckets'.
	Total TrafficCounts
	// Frame.Exact is set when every pane came from batch. UV and IPs are
	// then the union of batch's exact sets, or counted from the lake's
	// rows, when the server can read the lake (see exact.go); without it
	// they are exact only where a bucket (or the total) is a single batch
	// pane, HyperLogLog estimates elsewhere.
}

// Traffic answers the series and total of the range. A bad parameter is an
// error whose message names it and its value.
func (s *Server) Traffic(ctx context.Context, q TrafficQuery) (*TrafficAnswer, error) {
	a, _, err := s.traffic(ctx, q)
	return a, err
}

// traffic is Traffic with the cache entry holding the answer.
func (s *Server) traffic(ctx context.Context, q TrafficQuery) (*TrafficAnswer, *answerEntry, error) {
	ser, err := s.series(q.Range, q.Step)
	if err != nil {
		return nil, nil, err
	}
	return cachedAnswer(s, ser.key("traffic"), ser.sp.from, ser.sp.to, func(sn *snapshot) (*TrafficAnswer, error) {
		return s.trafficOf(ctx, ser.on(sn))
	})
}

// trafficOf computes the answer over ser. Before the horizon the distinct
// counts are exact (exactTrafficOf): from batch's sets beside the panes'
// PV, or all three from the lake; the panes' sketches are then not merged
// at all (a day at step=15m merged every pane's registers for figures
// the sets replaced). Without exact counts (no lake, or an error) the
// sketches answer.
func (s *Server) trafficOf(ctx context.Context, ser series) (*TrafficAnswer, error) {
	ans := &TrafficAnswer{Frame: ser.frame()}
	var ex *exactTraffic
	if ans.Exact {
		var err error
		if ex, err = s.exactTrafficOf(ctx, ser.sn, ser.sp, ser.step); err != nil {
			// The panes' figures stand: PV exact, UV and IPs merged
			// sketches, as documented for a server without the lake.
			if !errors.Is(err, lakesql.ErrNoLake) {
				s.cfg.logger.Warn("exact distinct counts unavailable, answering with sketches", "err", err)
			}
			ex = nil
		}
	}
	var buf []*state
	var c views.TrafficCounter
	// count counts [from, to): from ex where it answers (ex is shared
	// with the cache: not changed), else the panes' sketches.
	count := func(from, to int64, exact TrafficCounts) TrafficCounts {
		buf = ser.sn.statesIn(buf[:0], from, to, ser.pane)
		switch {
		case ex == nil:
			return countTraffic(buf, &c)
		case ex.distinctOnly:
			exact.PV = 0
			for _, st := range buf {
				exact.PV += st.pv()
			}
		}
		return exact
	}
	for b, part := range ser.buckets {
		var counts TrafficCounts
		if ex == nil {
			counts = cachedBucket(s, ser.sn, answerKey{view: "traffic", from: part.from, to: part.to}, func() TrafficCounts {
				return count(part.from, part.to, TrafficCounts{})
			})
		} else {
			counts = count(part.from, part.to, ex.series[b])
		}
		ans.Series = append(ans.Series, TrafficPoint{T: time.Unix(b, 0).UTC(), TrafficCounts: counts})
	}
	var total TrafficCounts
	if ex != nil {
		total = ex.total
	}
	ans.Total = count(ser.sp.from, ser.sp.to, total)
	return ans, nil
}

// countTraffic counts the merge of the traffic of states; a single state
// answers from the figures computed at refresh. c is scratch space, reused
// from one bucket to the next (nil: a counter of its own). A state whose
// prepared registers count it alone (views.TrafficRegs.Whole: both
// sketches sparse, as a one-minute pane's are) is not read: a sealed pane
// is held encoded, and decoding its traffic for each bucket was most of a
// series' cost (every pane of a day for step=15m).
func countTraffic(states []*state, c *views.TrafficCounter) TrafficCounts {
	switch len(states) {
	case 0:
		return TrafficCounts{}
	case 1:
		st := states[0]
		return TrafficCounts{PV: st.pv(), UV: st.uv, IPs: st.ips}
	}
	if c == nil {
		c = new(views.TrafficCounter)
	}
	c.Reset()
	for _, st := range states {
		var t *views.Traffic
		if !st.regs.Whole() {
			t = st.of(views.ViewTraffic).Traffic
		}
		c.AddPrepared(t, st.regs)
	}
	pv, uv, ips := c.Counts()
	return TrafficCounts{PV: pv, UV: uv, IPs: ips}
}
