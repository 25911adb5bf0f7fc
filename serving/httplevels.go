package serving

import (
	"net/url"
)

// GET /v1/levels: the query string becomes a LevelsQuery (from, to and
// step as for /v1/traffic, plus instance), the answer the JSON body below.

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
	frameBody
	Instance *string                     `json:"instance"`
	Series   []levelsPointBody           `json:"series"`
	Total    map[string]map[string]int64 `json:"total"`
}

func newLevelsBody(a *LevelsAnswer) levelsBody {
	b := levelsBody{
		frameBody: a.Frame.body(),
		Series:    make([]levelsPointBody, len(a.Series)),
		Total:     a.Total,
	}
	if a.Instance != "" {
		b.Instance = &a.Instance
	}
	for i, p := range a.Series {
		b.Series[i] = levelsPointBody{T: fmtTime(p.T), Levels: p.Levels}
	}
	return b
}
