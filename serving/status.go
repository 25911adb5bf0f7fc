package serving

import "net/http"

// partitionStatus is speed's progress on one Kafka partition.
type partitionStatus struct {
	Partition     int32 `json:"partition"`
	Offset        int64 `json:"offset"`
	HighWatermark int64 `json:"high_watermark"`
	// Lag is the number of records written to the partition that speed
	// has not applied yet.
	Lag         int64   `json:"lag"`
	Watermark   *string `json:"watermark"`
	LateDropped int64   `json:"late_dropped"`
	ParseErrors int64   `json:"parse_errors"`
	Events      int64   `json:"events"`
	Updated     *string `json:"updated"`
}

// statusAnswer is the body of GET /v1/status.
type statusAnswer struct {
	Topic        string            `json:"topic"`
	Pane         string            `json:"pane"`
	BatchHorizon *string           `json:"batch_horizon"`
	Partitions   []partitionStatus `json:"partitions"`
	// Totals over partitions.
	LateDropped int64 `json:"late_dropped"`
	ParseErrors int64 `json:"parse_errors"`
	Events      int64 `json:"events"`
	// Lake is batch's summary of the lake (batch_meta "lake|<topic>"),
	// null until batch has written one; LakeDir is where this server
	// expects the lake.
	Lake       map[string]any `json:"lake"`
	LakeDir    string         `json:"lake_dir"`
	SpeedPanes int            `json:"speed_panes"`
	BatchPanes int            `json:"batch_panes"`
	// Refreshed is when the cache was last refreshed; null before the
	// first refresh.
	Refreshed *string `json:"refreshed"`
}

func (s *Server) handleStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.status())
}

func (s *Server) status() *statusAnswer {
	sn := s.snap.Load()
	ans := &statusAnswer{
		Topic:        s.cfg.topic,
		Pane:         s.cfg.pane.String(),
		BatchHorizon: jsonTime(sn.horizon),
		Partitions:   make([]partitionStatus, 0, len(sn.status.partitions)),
		Lake:         sn.status.lake,
		LakeDir:      s.cfg.lake,
		SpeedPanes:   len(sn.speed.panes),
		BatchPanes:   len(sn.batch.panes),
		Refreshed:    jsonTime(sn.refreshed),
	}
	for _, c := range sn.status.partitions {
		ans.Partitions = append(ans.Partitions, partitionStatus{
			Partition:     c.Partition,
			Offset:        c.Offset,
			HighWatermark: c.HighWatermark,
			Lag:           c.Lag(),
			Watermark:     jsonTime(c.Watermark),
			LateDropped:   c.LateDropped,
			ParseErrors:   c.ParseErrors,
			Events:        c.Events,
			Updated:       jsonTime(c.Updated),
		})
		ans.LateDropped += c.LateDropped
		ans.ParseErrors += c.ParseErrors
		ans.Events += c.Events
	}
	return ans
}
