package serving

import (
	"net/url"
	"strconv"

	"github.com/loglambda/loglambda/schemas/views"
)

// The HTTP side of the hot view: ?from, ?to and ?k become a HotQuery,
// the answer the JSON body of GET /v1/hot.

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
