package serving

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/alerts"
)

// StatusesQuery asks for the requests per HTTP status code of a range.
// The zero value asks for the last hour.
type StatusesQuery struct {
	Range
}

// StatusFigures is one code of a StatusesAnswer; code 0 counts the codes
// outside 100-599.
type StatusFigures struct {
	Code     int32  `json:"code"`
	Class    string `json:"class"`
	Count    int64  `json:"count"`
	BytesSum int64  `json:"bytes_sum"`
}

// StatusesAnswer is the answer to a StatusesQuery: exact on both sides of
// the horizon.
type StatusesAnswer struct {
	From, To time.Time
	// Statuses are by code.
	Statuses     []StatusFigures
	Requests     int64
	BatchHorizon time.Time
	// Exact is set when every pane came from batch.
	Exact bool
}

// Statuses merges the statuses view over the range.
func (s *Server) Statuses(q StatusesQuery) (*StatusesAnswer, error) {
	a, _, err := s.statuses(q)
	return a, err
}

// statuses is Statuses with the cache entry holding the answer.
func (s *Server) statuses(q StatusesQuery) (*StatusesAnswer, *answerEntry, error) {
	sp, err := s.span(q.Range)
	if err != nil {
		return nil, nil, err
	}
	key := answerKey{view: "statuses", from: sp.from, to: sp.to}
	return cachedAnswer(s, key, sp.from, sp.to, func(sn *snapshot) (*StatusesAnswer, error) {
		a := &StatusesAnswer{From: sp.fromTime(), To: sp.toTime(), BatchHorizon: sn.horizon, Exact: sn.exact(sp), Statuses: []StatusFigures{}}
		for _, c := range statusCodes(sn, sp, s.paneSeconds()) {
			a.Statuses = append(a.Statuses, StatusFigures{Code: c.Code, Class: statusClass(c.Code), Count: c.Count, BytesSum: c.BytesSum})
			a.Requests += c.Count
		}
		return a, nil
	})
}

func statusCodes(sn *snapshot, sp span, pane int64) []views.StatusCount {
	acc := views.NewStatuses()
	for _, st := range sn.statesIn(nil, sp.from, sp.to, pane) {
		if st.of(views.ViewStatuses).Statuses != nil {
			acc.Merge(st.of(views.ViewStatuses).Statuses)
		}
	}
	return acc.Codes()
}

// statusClass is 2xx for 200-299, ...; "other" for code 0.
func statusClass(code int32) string {
	if code == views.StatusOther {
		return "other"
	}
	return strconv.Itoa(int(code/100)) + "xx"
}

// HTTP: ?from and ?to; the answer the JSON body of GET /v1/statuses.

func parseStatusesQuery(q url.Values) (StatusesQuery, error) {
	r, err := parseRange(q)
	return StatusesQuery{Range: r}, err
}

type statusesBody struct {
	From         string          `json:"from"`
	To           string          `json:"to"`
	Statuses     []StatusFigures `json:"statuses"`
	Requests     int64           `json:"requests"`
	BatchHorizon *string         `json:"batch_horizon"`
	Exact        bool            `json:"exact"`
}

func newStatusesBody(a *StatusesAnswer) statusesBody {
	return statusesBody{From: fmtTime(a.From), To: fmtTime(a.To), Statuses: a.Statuses, Requests: a.Requests,
		BatchHorizon: jsonTime(a.BatchHorizon), Exact: a.Exact}
}

// statusesPanel is the view's table on the dashboard.
var statusesPanel = &panel{
	Title: "Status codes", Caption: "Requests and bytes per HTTP status code of the range",
	Rows: "statuses", Total: "requests", TotalLabel: "requests", Empty: "No requests with a status in this range.",
	Columns: []column{
		{Label: "Code", Field: "code", Format: "text", Attr: "code"},
		{Label: "Class", Field: "class", Format: "text", Attr: "class"},
		{Label: "Requests", Field: "count", Format: "int", Attr: "count"},
		{Label: "Bytes", Field: "bytes_sum", Format: "bytes", Attr: "bytes-sum"},
	},
}

// statusesRules: rules count requests or bytes per code or class (where
// class: 5xx, code: "50?").
func statusesRules(s *Server) alerts.ViewRules {
	return alerts.ViewRules{Measures: []string{"requests", "bytes"}, Where: []string{"code", "class"}, GroupBy: []string{"code", "class"},
		Groups: func(_ context.Context, measure string, from, to time.Time) ([]alerts.Sample, error) {
			sp, err := s.span(Range{From: from, To: to})
			if err != nil {
				return nil, err
			}
			var out []alerts.Sample
			for _, c := range statusCodes(s.snap.Load(), sp, s.paneSeconds()) {
				v := float64(c.Count)
				if measure == "bytes" {
					v = float64(c.BytesSum)
				}
				out = append(out, alerts.Sample{Labels: map[string]string{"code": strconv.Itoa(int(c.Code)), "class": statusClass(c.Code)}, Value: v})
			}
			return out, nil
		}}
}
