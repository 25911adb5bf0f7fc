package serving

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// Conversions between the query layer's Go types and the loglambda.v1
// messages. Zero times (no batch horizon yet, no watermark) are unset
// fields, as they are null in the JSON answers.

// rangeOf reads a request's from and to; unset ones stay zero, for the
// query layer's defaults.
func rangeOf(from, to *timestamppb.Timestamp) (Range, error) {
	var r Range
	for _, p := range []struct {
		name string
		ts   *timestamppb.Timestamp
		dst  *time.Time
	}{{"from", from, &r.From}, {"to", to, &r.To}} {
		if p.ts == nil {
			continue
		}
		if err := p.ts.CheckValid(); err != nil {
			return r, badParam(p.name, fmt.Sprintf("%ds %dns", p.ts.GetSeconds(), p.ts.GetNanos()), "%v", err)
		}
		*p.dst = p.ts.AsTime()
	}
	return r, nil
}

// stepOf reads a request's step; unset stays zero, for the query layer's
// default. A set step is checked as HTTP checks ?step= (givenStep).
func stepOf(d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, badParam("step", fmt.Sprintf("%ds %dns", d.GetSeconds(), d.GetNanos()), "%v", err)
	}
	return givenStep(d.AsDuration(), d.AsDuration().String())
}

// steppedRequest is a request with a range and a step.
type steppedRequest interface {
	GetFrom() *timestamppb.Timestamp
	GetTo() *timestamppb.Timestamp
	GetStep() *durationpb.Duration
}

// rangeStepOf reads a request's range (rangeOf) and step (stepOf).
func rangeStepOf(req steppedRequest) (Range, time.Duration, error) {
	r, err := rangeOf(req.GetFrom(), req.GetTo())
	if err != nil {
		return r, 0, err
	}
	step, err := stepOf(req.GetStep())
	return r, step, err
}

// timestamp is t as a message, nil when zero.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func hotResponse(a *HotAnswer) *llv1.HotResponse {
	resp := &llv1.HotResponse{
		From:         timestamp(a.From),
		To:           timestamp(a.To),
		Terms:        make([]*llv1.TermCount, len(a.Terms)),
		ErrorBound:   a.ErrorBound,
		BatchHorizon: timestamp(a.BatchHorizon),
		Exact:        a.Exact,
	}
	for i, t := range a.Terms {
		resp.Terms[i] = &llv1.TermCount{Term: t.Term, Count: t.Count, Err: t.Err}
	}
	return resp
}

func trafficResponse(a *TrafficAnswer) *llv1.TrafficResponse {
	resp := &llv1.TrafficResponse{
		From:         timestamp(a.From),
		To:           timestamp(a.To),
		Step:         durationpb.New(a.Step),
		Series:       make([]*llv1.TrafficPoint, len(a.Series)),
		Total:        &llv1.TrafficTotal{Pv: a.Total.PV, Uv: a.Total.UV, Ips: a.Total.IPs},
		BatchHorizon: timestamp(a.BatchHorizon),
		Exact:        a.Exact,
	}
	for i, p := range a.Series {
		resp.Series[i] = &llv1.TrafficPoint{T: timestamp(p.T), Pv: p.PV, Uv: p.UV, Ips: p.IPs}
	}
	return resp
}

func levelsResponse(a *LevelsAnswer) *llv1.LevelsResponse {
	resp := &llv1.LevelsResponse{
		From:         timestamp(a.From),
		To:           timestamp(a.To),
		Step:         durationpb.New(a.Step),
		Instance:     a.Instance,
		Series:       make([]*llv1.LevelsPoint, len(a.Series)),
		Total:        make(map[string]*llv1.LevelCounts, len(a.Total)),
		BatchHorizon: timestamp(a.BatchHorizon),
		Exact:        a.Exact,
	}
	for i, p := range a.Series {
		resp.Series[i] = &llv1.LevelsPoint{T: timestamp(p.T), Levels: p.Levels}
	}
	for inst, per := range a.Total {
		resp.Total[inst] = &llv1.LevelCounts{Levels: per}
	}
	return resp
}

func statusResponse(a *StatusAnswer) *llv1.StatusResponse {
	resp := &llv1.StatusResponse{
		Topic:        a.Topic,
		Pane:         durationpb.New(a.Pane),
		BatchHorizon: timestamp(a.BatchHorizon),
		Partitions:   make([]*llv1.PartitionStatus, len(a.Partitions)),
		LateDropped:  a.LateDropped,
		ParseErrors:  a.ParseErrors,
		Events:       a.Events,
		LakeDir:      a.LakeDir,
		SpeedPanes:   int64(a.SpeedPanes),
		BatchPanes:   int64(a.BatchPanes),
		Refreshed:    timestamp(a.Refreshed),
	}
	if a.Lake != nil {
		resp.Lake = &structpb.Struct{Fields: structFields(a.Lake)}
	}
	for i, p := range a.Partitions {
		resp.Partitions[i] = &llv1.PartitionStatus{
			Partition:     p.Partition,
			Offset:        p.Offset,
			HighWatermark: p.HighWatermark,
			Lag:           p.Lag,
			Watermark:     timestamp(p.Watermark),
			LateDropped:   p.LateDropped,
			ParseErrors:   p.ParseErrors,
			Events:        p.Events,
			Updated:       timestamp(p.Updated),
		}
	}
	for _, b := range a.Behind {
		resp.Behind = append(resp.Behind, &llv1.LayerBacklog{Layer: b.Layer, PendingDocs: b.PendingDocs,
			PendingHours: int64(b.PendingHours), OldestPending: timestamp(b.OldestPending),
			FailingSince: timestamp(b.FailingSince), LastError: b.LastError,
			SkippedPanes: b.SkippedPanes, SkippedDocs: b.SkippedDocs})
	}
	return resp
}

// structFields converts the lake summary, JSON-like values read from
// MongoDB, into Struct fields. A value structpb has no kind for (a BSON
// decimal, say) becomes its text rather than failing the whole status.
func structFields(m map[string]any) map[string]*structpb.Value {
	out := make(map[string]*structpb.Value, len(m))
	for k, v := range m {
		out[k] = structValue(v)
	}
	return out
}

func structValue(v any) *structpb.Value {
	switch x := v.(type) {
	case map[string]any:
		return structpb.NewStructValue(&structpb.Struct{Fields: structFields(x)})
	case []any:
		vs := make([]*structpb.Value, len(x))
		for i, e := range x {
			vs[i] = structValue(e)
		}
		return structpb.NewListValue(&structpb.ListValue{Values: vs})
	}
	if sv, err := structpb.NewValue(v); err == nil {
		return sv
	}
	return structpb.NewStringValue(fmt.Sprint(v))
}

func clustersResponse(a *ClustersAnswer) *llv1.ClustersResponse {
	resp := &llv1.ClustersResponse{
		From: timestamp(a.From), To: timestamp(a.To), Step: durationpb.New(a.Step), K: int32(a.K),
		Fields: a.Fields, Events: a.Events, Outliers: a.Outliers, Missing: a.Missing,
		MicroClusters: int32(a.MicroClusters), BatchHorizon: timestamp(a.BatchHorizon), Exact: a.Exact,
	}
	byField := a.byField
	for _, c := range a.Clusters {
		resp.Clusters = append(resp.Clusters, &llv1.MacroCluster{Count: c.Count, Share: c.Share,
			Mean: byField(c.Mean), Stddev: byField(c.Stddev), Center: byField(c.Center),
			Min: byField(c.Min), Max: byField(c.Max), Series: c.Series})
	}
	for _, p := range a.Series {
		resp.Series = append(resp.Series, &llv1.ClustersPoint{T: timestamp(p.T), Counts: p.Counts, Outliers: p.Outliers, Missing: p.Missing})
	}
	return resp
}
