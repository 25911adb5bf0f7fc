package serving

import (
	"net/url"
	"time"
)

// The HTTP side of the traffic view: ?from, ?to and ?step become a
// TrafficQuery, the answer the JSON body of GET /v1/traffic.

// parseTrafficQuery reads from, to and step (a Go duration such as 5m). A
// given step of 0 is an error: only its absence means the pane.
func (s *Server) parseTrafficQuery(q url.Values) (TrafficQuery, error) {
	r, err := parseRange(q)
	if err != nil {
		return TrafficQuery{}, err
	}
	tq := TrafficQuery{Range: r}
	if v := q.Get("step"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return TrafficQuery{}, badParam("step", v, "not a duration (like 1m, 15m, 1h)")
		}
		if tq.Step, err = givenStep(d, v); err != nil {
			return TrafficQuery{}, err
		}
	}
	return tq, nil
}

// trafficCountsBody are the traffic figures of a bucket or of the range.
type trafficCountsBody struct {
	PV  int64 `json:"pv"`
	UV  int64 `json:"uv"`
	IPs int64 `json:"ips"`
}

type trafficPointBody struct {
	T string `json:"t"`
	trafficCountsBody
}

// trafficBody is the JSON body of GET /v1/traffic.
type trafficBody struct {
	frameBody
	Series []trafficPointBody `json:"series"`
	Total  trafficCountsBody  `json:"total"`
}

func newTrafficBody(a *TrafficAnswer) trafficBody {
	b := trafficBody{
		frameBody: a.Frame.body(),
		Series:    make([]trafficPointBody, len(a.Series)),
		Total:     trafficCountsBody(a.Total),
	}
	for i, p := range a.Series {
		b.Series[i] = trafficPointBody{T: fmtTime(p.T), trafficCountsBody: trafficCountsBody(p.TrafficCounts)}
	}
	return b
}
