package serving

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// The gRPC side of the status: StatusAnswer to StatusResponse, the lake
// summary as a Struct.

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
		LagUnknown:   a.LagUnknown,
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
			SkippedPanes: b.SkippedPanes, SkippedDocs: b.SkippedDocs, Blocked: b.Blocked})
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

func (q queryService) Status(context.Context, *llv1.StatusRequest) (*llv1.StatusResponse, error) {
	e := q.s.status()
	if m := e.msg.Load(); m != nil {
		return (*m).(*llv1.StatusResponse), nil
	}
	r := statusResponse(e.ans.(*StatusAnswer))
	keep(&q.s.wires, e, r)
	var m any = r
	e.msg.Store(&m)
	return r, nil
}
