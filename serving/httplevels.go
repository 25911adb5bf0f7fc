package serving

import (
	"net/http"
	"net/url"
)

// GET /v1/levels: the query string becomes a LevelsQuery (from, to and
// step as for /v1/traffic, plus instance), the answer the JSON body below.

func (s *Server) handleLevels(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq, err := s.parseLevelsQuery(q)
	if err != nil {
		writeQueryError(w, q, err)
		return
	}
	ans, err := s.Levels(lq)
	if err != nil {
		writeQueryError(w, q, err)
		return
	}
	writeJSON(w, http.StatusOK, newLevelsBody(ans))
}

// parseLevelsQuery reads from, to, step (as parseTrafficQuery) and
// instance. A given but empty instance means all, like its absence.
func (s *Server) parseLevelsQuery(q url.Values) (LevelsQuery, error) {
	tq, err := s.parseTrafficQuery(q)
	if err != nil {
		return LevelsQuery{}, err
	}
	return LevelsQuery{Range: tq.Range, Step: tq.Step, Instance: q.Get("instance")}, nil
}

type levelsPointBody struct {
	T      string           `json:"t"`
	Levels map[string]int64 `json:"levels"`
}

// levelsBody is the JSON body of GET /v1/levels.
type levelsBody struct {
	From         string                      `json:"from"`
	To           string                      `json:"to"`
	Step         string                      `json:"step"`
	Instance     *string                     `json:"instance"`
	Series       []levelsPointBody           `json:"series"`
	Total        map[string]map[string]int64 `json:"total"`
	BatchHorizon *string                     `json:"batch_horizon"`
	Exact        bool                        `json:"exact"`
}

func newLevelsBody(a *LevelsAnswer) levelsBody {
	b := levelsBody{
		From:         fmtTime(a.From),
		To:           fmtTime(a.To),
		Step:         a.Step.String(),
		Series:       make([]levelsPointBody, len(a.Series)),
		Total:        a.Total,
		BatchHorizon: jsonTime(a.BatchHorizon),
		Exact:        a.Exact,
	}
	if a.Instance != "" {
		b.Instance = &a.Instance
	}
	for i, p := range a.Series {
		b.Series[i] = levelsPointBody{T: fmtTime(p.T), Levels: p.Levels}
	}
	return b
}
