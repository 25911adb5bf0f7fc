package serving

import "net/http"

// The HTTP side of the status: the StatusAnswer as the JSON body of
// GET /v1/status.

// handleStatus writes the status's body, encoded once per status built
// (statusCache).
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	e := s.status()
	b, err := e.jsonBody(func() any { return newStatusBody(e.ans.(*StatusAnswer)) })
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeEncoded(w, r, b)
}

type partitionStatusBody struct {
	Partition     int32   `json:"partition"`
	Offset        int64   `json:"offset"`
	HighWatermark int64   `json:"high_watermark"`
	Lag           *int64  `json:"lag"` // null when unknown
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
	LagUnknown   string                `json:"lag_unknown,omitempty"`
	Refresh      refreshCostBody       `json:"refresh"`
}

// refreshCostBody is RefreshCost in the status body.
type refreshCostBody struct {
	Ticks           int64   `json:"ticks"`
	LastMS          float64 `json:"last_ms"`
	LastDocs        int64   `json:"last_docs"`
	Window          int     `json:"window"`
	MeanMS          float64 `json:"mean_ms"`
	MaxMS           float64 `json:"max_ms"`
	MeanDocs        float64 `json:"mean_docs"`
	MeanPublishMS   float64 `json:"mean_publish_ms"`
	SpeedScans      int64   `json:"speed_scans"`
	BatchWholeReads int64   `json:"batch_whole_reads"`
	BatchHoursRead  int64   `json:"batch_hours_read"`
	PendingWrites   int64   `json:"pending_writes"`
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
		LagUnknown:   a.LagUnknown,
		Refresh:      refreshCostBody(a.Refresh),
	}
	for i, p := range a.Partitions {
		b.Partitions[i] = partitionStatusBody{
			Partition:     p.Partition,
			Offset:        p.Offset,
			HighWatermark: p.HighWatermark,
			Lag:           lagJSON(p.Lag),
			Watermark:     jsonTime(p.Watermark),
			LateDropped:   p.LateDropped,
			ParseErrors:   p.ParseErrors,
			Events:        p.Events,
			Updated:       jsonTime(p.Updated),
		}
	}
	return b
}

// lagJSON is a partition's lag, nil (null) when unknown (-1).
func lagJSON(lag int64) *int64 {
	if lag < 0 {
		return nil
	}
	return &lag
}
