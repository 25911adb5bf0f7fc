package serving

import (
	"net/url"
)

// GET /v1/clusters: from, to and step as for /v1/traffic, k as for
// /v1/hot; the answer is the JSON body below.

func (s *Server) parseClustersQuery(q url.Values) (ClustersQuery, error) {
	tq, err := s.parseTrafficQuery(q)
	if err != nil {
		return ClustersQuery{}, err
	}
	hq, err := parseHotQuery(q)
	if err != nil {
		return ClustersQuery{}, err
	}
	return ClustersQuery{Range: tq.Range, Step: tq.Step, K: hq.K}, nil
}

type clusterBody struct {
	ID     int                `json:"id"`
	Count  int64              `json:"count"`
	Share  float64            `json:"share"`
	Mean   map[string]float64 `json:"mean"`
	Stddev map[string]float64 `json:"stddev"`
	Center map[string]float64 `json:"center"`
	Min    map[string]float64 `json:"min"`
	Max    map[string]float64 `json:"max"`
	Series []int64            `json:"series"`
}

type clustersPointBody struct {
	T        string  `json:"t"`
	Counts   []int64 `json:"counts"`
	Outliers int64   `json:"outliers"`
	Missing  int64   `json:"missing"`
}

// clustersBody is the JSON body of GET /v1/clusters. Per feature values
// are keyed by field name, in the field's own units.
type clustersBody struct {
	frameBody
	K             int                 `json:"k"`
	Fields        []string            `json:"fields"`
	Clusters      []clusterBody       `json:"clusters"`
	Series        []clustersPointBody `json:"series"`
	Events        int64               `json:"events"`
	Outliers      int64               `json:"outliers"`
	Missing       int64               `json:"missing"`
	MicroClusters int                 `json:"micro_clusters"`
}

func newClustersBody(a *ClustersAnswer) clustersBody {
	b := clustersBody{
		frameBody: a.Frame.body(), K: a.K,
		Fields: a.Fields, Clusters: make([]clusterBody, len(a.Clusters)),
		Series: make([]clustersPointBody, len(a.Series)),
		Events: a.Events, Outliers: a.Outliers, Missing: a.Missing, MicroClusters: a.MicroClusters,
	}
	if b.Fields == nil {
		b.Fields = []string{}
	}
	byField := a.byField
	for i, c := range a.Clusters {
		b.Clusters[i] = clusterBody{ID: i, Count: c.Count, Share: c.Share, Mean: byField(c.Mean), Stddev: byField(c.Stddev),
			Center: byField(c.Center), Min: byField(c.Min), Max: byField(c.Max), Series: c.Series}
	}
	for i, p := range a.Series {
		b.Series[i] = clustersPointBody{T: fmtTime(p.T), Counts: p.Counts, Outliers: p.Outliers, Missing: p.Missing}
	}
	return b
}
