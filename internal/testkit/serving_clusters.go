package testkit

import "time"

// ClustersAnswer is the JSON body of serving's GET /v1/clusters as its
// clients read it, declared here from the API's field names rather than
// taken from package serving, so that the tests decoding it (serving's and
// the end-to-end ones) check the wire format, not the server's own types.
type ClustersAnswer struct {
	K        int      `json:"k"`
	Fields   []string `json:"fields"`
	Clusters []struct {
		Count  int64              `json:"count"`
		Share  float64            `json:"share"`
		Mean   map[string]float64 `json:"mean"`
		Center map[string]float64 `json:"center"`
		Min    map[string]float64 `json:"min"`
		Max    map[string]float64 `json:"max"`
		Series []int64            `json:"series"`
	} `json:"clusters"`
	Series []struct {
		T        time.Time `json:"t"`
		Counts   []int64   `json:"counts"`
		Outliers int64     `json:"outliers"`
		Missing  int64     `json:"missing"`
	} `json:"series"`
	Events        int64 `json:"events"`
	Outliers      int64 `json:"outliers"`
	Missing       int64 `json:"missing"`
	MicroClusters int   `json:"micro_clusters"`
	Exact         bool  `json:"exact"`
}
