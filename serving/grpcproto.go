package serving

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
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
