package serving

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/loglambda/loglambda/schemas/views"
)

// The HTTP side of the queries: query strings become HotQuery and
// TrafficQuery, answers become the JSON bodies below. Checking the values
// and computing the answers is the shared query layer's (Hot, Traffic,
// Status), so HTTP and gRPC cannot drift apart.

func (s *Server) handleStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, newStatusBody(s.Status()))
}

// writeQueryError answers 400 for a bad parameter and 500 for anything
// else. A bad parameter is named with the value as the client wrote it
// (90s, not the 1m30s the query layer would print).
func writeQueryError(w http.ResponseWriter, q url.Values, err error) {
	var pe *paramError
	if errors.As(err, &pe) {
		if raw := q.Get(pe.param); raw != "" {
			e := *pe
			e.value = raw
			err = &e
		}
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}

// parseRange reads from and to (RFC 3339, or Unix seconds); absent ones
// are left zero, for the query layer's defaults.
func parseRange(q url.Values) (Range, error) {
	var r Range
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &r.From}, {"to", &r.To}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := parseTime(v)
		if err != nil {
			return r, badParam(p.name, v, "%v", err)
		}
		*p.dst = t
	}
	return r, nil
}

// parseTime accepts RFC 3339 (any offset, fractions allowed) or Unix
// seconds.
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("not an RFC 3339 time (2006-01-02T15:04:05Z) or Unix seconds")
}

// parseHotQuery reads from, to and k. A given k must be a positive
// integer: only its absence means the default.
func parseHotQuery(q url.Values) (HotQuery, error) {
	r, err := parseRange(q)
	if err != nil {
		return HotQuery{}, err
	}
	hq := HotQuery{Range: r}
	if v := q.Get("k"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k <= 0 {
			return HotQuery{}, badParam("k", v, "not a positive integer")
		}
		hq.K = k
	}
	return hq, nil
}

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

// hotBody is the JSON body of GET /v1/hot.
type hotBody struct {
	From         string            `json:"from"`
	To           string            `json:"to"`
	Terms        []views.TermCount `json:"terms"`
	ErrorBound   int64             `json:"error_bound"`
	BatchHorizon *string           `json:"batch_horizon"`
	Exact        bool              `json:"exact"`
}

func newHotBody(a *HotAnswer) hotBody {
	return hotBody{
		From:         fmtTime(a.From),
		To:           fmtTime(a.To),
		Terms:        a.Terms,
		ErrorBound:   a.ErrorBound,
		BatchHorizon: jsonTime(a.BatchHorizon),
		Exact:        a.Exact,
	}
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

type partitionStatusBody struct {
	Partition     int32   `json:"partition"`
	Offset        int64   `json:"offset"`
	HighWatermark int64   `json:"high_watermark"`
	Lag           int64   `json:"lag"`
	Watermark     *string `json:"watermark"`
	LateDropped   int64   `json:"late_dropped"`
	ParseErrors   int64   `json:"parse_errors"`
	Events        int64   `json:"events"`
	Updated       *string `json:"updated"`
}

// statusBody is the JSON body of GET /v1/status.
type statusBody struct {
	Topic        string                `json:"topic"`
	Pane         string                `json:"pane"`
	BatchHorizon *string               `json:"batch_horizon"`
	Partitions   []partitionStatusBody `json:"partitions"`
	LateDropped  int64                 `json:"late_dropped"`
	ParseErrors  int64                 `json:"parse_errors"`
	Events       int64                 `json:"events"`
	Lake         map[string]any        `json:"lake"`
	LakeDir      string                `json:"lake_dir"`
	SpeedPanes   int                   `json:"speed_panes"`
	BatchPanes   int                   `json:"batch_panes"`
	Refreshed    *string               `json:"refreshed"`
	Behind       []Backlog             `json:"behind,omitempty"`
}

func newStatusBody(a *StatusAnswer) statusBody {
	b := statusBody{
		Topic:        a.Topic,
		Pane:         a.Pane.String(),
		BatchHorizon: jsonTime(a.BatchHorizon),
		Partitions:   make([]partitionStatusBody, len(a.Partitions)),
		LateDropped:  a.LateDropped,
		ParseErrors:  a.ParseErrors,
		Events:       a.Events,
		Lake:         a.Lake,
		LakeDir:      a.LakeDir,
		SpeedPanes:   a.SpeedPanes,
		BatchPanes:   a.BatchPanes,
		Refreshed:    jsonTime(a.Refreshed),
		Behind:       a.Behind,
	}
	for i, p := range a.Partitions {
		b.Partitions[i] = partitionStatusBody{
			Partition:     p.Partition,
			Offset:        p.Offset,
			HighWatermark: p.HighWatermark,
			Lag:           p.Lag,
			Watermark:     jsonTime(p.Watermark),
			LateDropped:   p.LateDropped,
			ParseErrors:   p.ParseErrors,
			Events:        p.Events,
			Updated:       jsonTime(p.Updated),
		}
	}
	return b
}
