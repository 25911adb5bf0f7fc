package views

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/loglambda/loglambda/schemas/event"
)

// TestStatuses: counts per code as counted here, whether the events went
// into one state or were split over three and merged in any order (equal
// encodings); codes outside 100-599 under StatusOther; events without a
// status and parse errors in none; the codec keeps the state and refuses
// a truncated or repeated one.
func TestStatuses(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	codes := []int32{200, 201, 204, 301, 304, 400, 404, 499, 500, 502, 503, 0, 42, 999}
	whole := NewPane(0)
	parts := []*Pane{NewPane(0), NewPane(0), NewPane(0)}
	want := map[int32][2]int64{}
	for i := range 5000 {
		ev := event.Event{Status: codes[r.IntN(len(codes))], Bytes: r.Int64N(100000)}
		if i%97 == 0 {
			ev.ParseError = "bad line"
		}
		whole.Add(&ev)
		parts[r.IntN(3)].Add(&ev)
		if ev.Status == 0 || ev.ParseError != "" {
			continue
		}
		code := ev.Status
		if code < 100 || code > 599 {
			code = StatusOther
		}
		w := want[code]
		want[code] = [2]int64{w[0] + 1, w[1] + ev.Bytes}
	}
	got := whole.Statuses.Codes()
	if len(got) != len(want) {
		t.Fatalf("%d codes, want %d", len(got), len(want))
	}
	for _, c := range got {
		if w := want[c.Code]; c.Count != w[0] || c.BytesSum != w[1] {
			t.Errorf("code %d: %d requests, %d bytes; want %v", c.Code, c.Count, c.BytesSum, w)
		}
	}
	enc, _ := whole.Encode(ViewStatuses)
	for _, order := range [][]int{{0, 1, 2}, {2, 0, 1}, {1, 2, 0}} {
		m := NewPane(0)
		for _, i := range order {
			m.Merge(parts[i])
		}
		if e, _ := m.Encode(ViewStatuses); !bytes.Equal(e, enc) {
			t.Errorf("merged in order %v: encoding differs from the whole's", order)
		}
	}
	back := NewPane(0)
	if err := back.Decode(ViewStatuses, enc); err != nil {
		t.Fatal(err)
	}
	if e, _ := back.Encode(ViewStatuses); !bytes.Equal(e, enc) {
		t.Error("decoded state encodes differently")
	}
	for _, bad := range [][]byte{enc[:len(enc)-1], {statusesVersion, 2, 200, 1, 1, 0, 200, 1, 1, 0}, {9}} {
		if err := back.Decode(ViewStatuses, bad); err == nil {
			t.Errorf("decoded %v", bad)
		}
	}
}
