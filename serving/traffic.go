package serving

import (
	"net/http"
	"net/url"
	"time"

	"github.com/loglambda/loglambda/schemas/views"
)

// trafficCounts are the traffic figures of a bucket or of the whole range.
type trafficCounts struct {
	PV  int64 `json:"pv"`
	UV  int64 `json:"uv"`
	IPs int64 `json:"ips"`
}

// trafficPoint is one bucket of the series, starting at T.
type trafficPoint struct {
	T string `json:"t"`
	trafficCounts
}

// trafficAnswer is the body of GET /v1/traffic.
type trafficAnswer struct {
	From string `json:"from"`
	To   string `json:"to"`
	Step string `json:"step"`
	// Series has one point per step-aligned bucket overlapping the range,
	// empty buckets included, so a chart has no gaps.
	Series       []trafficPoint `json:"series"`
	Total        trafficCounts  `json:"total"`
	BatchHorizon *string        `json:"batch_horizon"`
	// Exact is set when every pane came from batch. UV and IPs are exact
	// only where a bucket (or the total) is a single batch pane; elsewhere
	// they are HyperLogLog estimates.
	Exact bool `json:"exact"`
}

func (s *Server) handleTraffic(w http.ResponseWriter, r *http.Request) {
	ans, err := s.traffic(r.URL.Query())
	if err != nil {
		writeQueryError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// traffic answers the series and total of the range.
func (s *Server) traffic(q url.Values) (*trafficAnswer, error) {
	sp, err := s.parseRange(q)
	if err != nil {
		return nil, err
	}
	step, err := s.parseStep(q, sp)
	if err != nil {
		return nil, err
	}
	sn := s.snap.Load()
	pane := s.paneSeconds()
	ans := &trafficAnswer{
		From:         fmtTime(sp.fromTime()),
		To:           fmtTime(sp.toTime()),
		Step:         (time.Duration(step) * time.Second).String(),
		BatchHorizon: jsonTime(sn.horizon),
		Exact:        sn.exact(sp),
	}
	var buf []*state
	for b := sp.from - mod(sp.from, step); b < sp.to; b += step {
		lo, hi := max(b, sp.from), min(b+step, sp.to)
		buf = sn.statesIn(buf[:0], lo, hi, pane)
		ans.Series = append(ans.Series, trafficPoint{T: fmtTime(time.Unix(b, 0)), trafficCounts: countTraffic(buf)})
	}
	ans.Total = countTraffic(sn.statesIn(buf[:0], sp.from, sp.to, pane))
	return ans, nil
}

// countTraffic merges the traffic of states; a single state answers from
// the figures computed at refresh.
func countTraffic(states []*state) trafficCounts {
	switch len(states) {
	case 0:
		return trafficCounts{}
	case 1:
		st := states[0]
		return trafficCounts{PV: st.pane.Traffic.PV, UV: st.uv, IPs: st.ips}
	}
	acc := views.NewMergeTraffic()
	for _, st := range states {
		acc.Merge(st.pane.Traffic)
	}
	return trafficCounts{PV: acc.PV, UV: acc.UVCount(), IPs: acc.IPCount()}
}
