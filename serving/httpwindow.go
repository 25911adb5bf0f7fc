package serving

import (
	"net/url"
	"strconv"
	"time"
)

// The HTTP side of the window: ?last, ?points and ?to become a
// WindowQuery, the answer the JSON body of GET /v1/window.

func parseWindowQuery(q url.Values) (WindowQuery, error) {
	var wq WindowQuery
	if v := q.Get("last"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return wq, badParam("last", v, "not a duration (like 1h, 24h)")
		}
		wq.Last = d
	}
	if v := q.Get("points"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return wq, badParam("points", v, "not an integer")
		}
		wq.Points = n
	}
	r, err := parseRange(url.Values{"to": q["to"]})
	wq.To = r.To
	return wq, err
}

type windowBody struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Step and Pane in seconds, as the dashboard computes with them.
	Step int64 `json:"step_seconds"`
	Pane int64 `json:"pane_seconds"`
}

func newWindowBody(a *WindowAnswer) windowBody {
	return windowBody{From: fmtTime(a.From), To: fmtTime(a.To), Step: int64(a.Step / time.Second), Pane: int64(a.Pane / time.Second)}
}
