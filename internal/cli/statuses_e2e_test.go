package cli

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/views"
)

// TestStatusesEndToEnd runs speed and batch over three hours of generated
// traffic and checks the statuses view through every layer: batch's pane
// states (folded from the lake with the view's Add) equal speed's, byte
// for byte; /v1/statuses over the batch range and over speed's last hour
// gives every code's requests and bytes exactly as counted here from the
// lines produced.
func TestStatusesEndToEnd(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: starts Kafka, MongoDB and all layers")
	const rate = 2.0 // 3 h: 21 600 events
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-4 * time.Hour)
	end := t0.Add(3 * time.Hour)
	horizon := end.Add(-time.Hour) // the last hour is within the grace
	vs := startViewStack(t, 10*time.Minute, 9, rate, t0, end, end.Add(30*time.Minute))

	// The exact figures per code, from the lines: before the horizon
	// (batch) and after it (speed).
	type figures struct{ count, bytes int64 }
	want := []map[int32]*figures{{}, {}}
	for _, r := range vs.recs {
		var line struct {
			TS     time.Time `json:"ts"`
			Status int32     `json:"status"`
			Bytes  int64     `json:"bytes"`
		}
		if err := json.Unmarshal(r.Line, &line); err != nil {
			t.Fatal(err)
		}
		if line.Status == 0 {
			continue
		}
		side := 0
		if !line.TS.Before(horizon) {
			side = 1
		}
		f := want[side][line.Status]
		if f == nil {
			f = &figures{}
			want[side][line.Status] = f
		}
		f.count++
		f.bytes += line.Bytes
	}
	if len(want[0]) < 5 || want[0][500] == nil {
		t.Fatalf("the traffic has %d codes before the horizon (500: %v): too few to test", len(want[0]), want[0][500])
	}

	if n, w := vs.batchEqualsSpeed(t, views.ViewStatuses), int(horizon.Sub(t0)/(10*time.Minute)); n != w {
		t.Errorf("compared %d batch panes with speed, want %d", n, w)
	}
	for side, r := range [][2]time.Time{{t0, horizon}, {horizon, end}} {
		var ans struct {
			Statuses []struct {
				Code     int32  `json:"code"`
				Class    string `json:"class"`
				Count    int64  `json:"count"`
				BytesSum int64  `json:"bytes_sum"`
			} `json:"statuses"`
			Requests int64 `json:"requests"`
			Exact    bool  `json:"exact"`
		}
		q := fmt.Sprintf("%s/v1/statuses?from=%s&to=%s", vs.web.URL, r[0].Format(time.RFC3339), r[1].Format(time.RFC3339))
		if resp, body := testkit.Get(t, q); resp.StatusCode != 200 || json.Unmarshal(body, &ans) != nil {
			t.Fatalf("GET %s: %d %s", q, resp.StatusCode, body)
		}
		var requests int64
		for _, f := range want[side] {
			requests += f.count
		}
		if ans.Exact != (side == 0) || len(ans.Statuses) != len(want[side]) || ans.Requests != requests {
			t.Errorf("%s..%s: exact %v, %d codes, %d requests; want %v, %d, %d", r[0].Format("15:04"), r[1].Format("15:04"),
				ans.Exact, len(ans.Statuses), ans.Requests, side == 0, len(want[side]), requests)
		}
		for i, c := range ans.Statuses {
			w := want[side][c.Code]
			if w == nil || c.Count != w.count || c.BytesSum != w.bytes || c.Class != fmt.Sprintf("%dxx", c.Code/100) ||
				(i > 0 && c.Code <= ans.Statuses[i-1].Code) {
				t.Errorf("%s..%s: code %+v, want %+v, in order", r[0].Format("15:04"), r[1].Format("15:04"), c, w)
			}
		}
	}
}
