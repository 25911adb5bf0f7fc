package serving

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
)

// The gRPC side of every view by name (View) and of the window (Window).
// View answers from the views' table (viewAPIs) with the JSON body GET
// /v1/<view> answers, so a view added to the table needs no .proto change.

func (q queryService) View(ctx context.Context, req *llv1.ViewRequest) (*llv1.ViewResponse, error) {
	a, ok := q.s.api(req.GetView())
	if !ok {
		names := make([]string, len(q.s.apis))
		for i, a := range q.s.apis {
			names[i] = a.view
		}
		return nil, status.Errorf(codes.InvalidArgument, "view %q: not served (views: %s)", req.GetView(), strings.Join(names, ", "))
	}
	params := url.Values{}
	for k, v := range req.GetParams() {
		params.Set(k, v)
	}
	b, err := a.answer(ctx, params)
	if err != nil {
		return nil, grpcError(err)
	}
	if m := b.view.Load(); m != nil {
		return m, nil
	}
	var body structpb.Struct
	if err := protojson.Unmarshal(b.body, &body); err != nil {
		return nil, status.Errorf(codes.Internal, "view %s: answer as a Struct: %v", a.view, err)
	}
	m := &llv1.ViewResponse{View: a.view, Body: &body}
	keep(&q.s.wires, b, m)
	b.view.Store(m)
	return m, nil
}

func (q queryService) Window(ctx context.Context, req *llv1.WindowRequest) (*llv1.WindowResponse, error) {
	r, err := rangeOf(nil, req.GetTo())
	wq := WindowQuery{Points: int(req.GetPoints()), To: r.To}
	if d := req.GetLast(); d != nil && err == nil {
		if err = d.CheckValid(); err != nil {
			err = badParam("last", fmt.Sprintf("%ds %dns", d.GetSeconds(), d.GetNanos()), "%v", err)
		}
		wq.Last = d.AsDuration()
	}
	return respond(ctx, wq, err, noCtx(q.s.Window), func(a *WindowAnswer) *llv1.WindowResponse {
		return &llv1.WindowResponse{From: timestamp(a.From), To: timestamp(a.To), Step: durationpb.New(a.Step), Pane: durationpb.New(a.Pane)}
	})
}
