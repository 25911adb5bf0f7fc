package serving

import (
	"net/url"
)

// GET /v1/patterns: from, to, k and step as for /v1/hot and /v1/traffic,
// plus level and instance; the answer is the JSON body below.

// parsePatternsQuery reads from, to, k (parseHotQuery), step
// (parseTrafficQuery), level and instance.
func (s *Server) parsePatternsQuery(q url.Values) (PatternsQuery, error) {
	hq, err := parseHotQuery(q)
	if err != nil {
		return PatternsQuery{}, err
	}
	tq, err := s.parseTrafficQuery(q)
	if err != nil {
		return PatternsQuery{}, err
	}
	return PatternsQuery{Range: hq.Range, K: hq.K, Step: tq.Step, Level: q.Get("level"), Instance: q.Get("instance")}, nil
}

type patternExampleBody struct {
	Line      string `json:"line"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

type patternBody struct {
	Pattern   string             `json:"pattern"`
	Template  string             `json:"template"`
	Count     int64              `json:"count"`
	Share     float64            `json:"share"`
	Previous  int64              `json:"previous"`
	ChangePct *float64           `json:"change_pct"`
	New       bool               `json:"new"`
	Gone      bool               `json:"gone"`
	FirstSeen string             `json:"first_seen"`
	LastSeen  string             `json:"last_seen"`
	Example   patternExampleBody `json:"example"`
	Series    []int64            `json:"series,omitempty"`
}

// patternsBody is the JSON body of GET /v1/patterns.
type patternsBody struct {
	frameBody
	Level         *string       `json:"level"`
	Instance      *string       `json:"instance"`
	Steps         []string      `json:"steps"`
	Total         int64         `json:"total"`
	PreviousTotal int64         `json:"previous_total"`
	Patterns      []patternBody `json:"patterns"`
	Gone          []patternBody `json:"gone"`
}

func newPatternBody(p PatternCount) patternBody {
	return patternBody{
		Pattern: p.ID.String(), Template: p.Template, Count: p.Count, Share: p.Share,
		Previous: p.Previous, ChangePct: p.ChangePct, New: p.New, Gone: p.Gone,
		FirstSeen: fmtTime(p.FirstSeen), LastSeen: fmtTime(p.LastSeen),
		Example: patternExampleBody{Line: p.Example, Partition: p.ExamplePartition, Offset: p.ExampleOffset},
		Series:  p.Series,
	}
}

func newPatternsBody(a *PatternsAnswer) patternsBody {
	b := patternsBody{
		frameBody: a.Frame.body(),
		Steps:     make([]string, len(a.Steps)), Total: a.Total, PreviousTotal: a.PreviousTotal,
		Patterns: make([]patternBody, len(a.Patterns)), Gone: make([]patternBody, len(a.Gone)),
	}
	if a.Level != "" {
		b.Level = &a.Level
	}
	if a.Instance != "" {
		b.Instance = &a.Instance
	}
	for i, t := range a.Steps {
		b.Steps[i] = fmtTime(t)
	}
	for i, p := range a.Patterns {
		b.Patterns[i] = newPatternBody(p)
	}
	for i, p := range a.Gone {
		b.Gone[i] = newPatternBody(p)
	}
	return b
}
