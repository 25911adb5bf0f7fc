package serving

import (
	"net/url"
	"testing"
	"time"
)

// TestWindow asks GET /v1/window what the dashboard asks: the step is the
// smallest multiple of the pane giving at most the points asked, `to` the
// clock (13:07:10 here) or the given time aligned up to the step, `from`
// the span before it; bad values are 400s naming the parameter.
func TestWindow(t *testing.T) {
	srv, base := startServer(t, testDB(t), Now(func() time.Time { return t13.Add(7*time.Minute + 10*time.Second) }))
	_ = srv
	type body struct {
		From, To string
		Step     int64 `json:"step_seconds"`
		Pane     int64 `json:"pane_seconds"`
	}
	for _, tc := range []struct {
		query          string
		from, to, step string
	}{
		{"last=24h&points=96", "2026-11-19T13:15:00Z", "2026-11-20T13:15:00Z", "15m"},
		{"last=6h&points=72", "2026-11-20T07:10:00Z", "2026-11-20T13:10:00Z", "5m"},
		{"last=1h&points=60", "2026-11-20T12:08:00Z", "2026-11-20T13:08:00Z", "1m"},
		{"last=1h&points=7", "2026-11-20T12:12:00Z", "2026-11-20T13:12:00Z", "9m"},    // 8m35s rounded up to the pane; aligned on Unix time
		{"last=1h&points=1000", "2026-11-20T12:08:00Z", "2026-11-20T13:08:00Z", "1m"}, // never below the pane
		{"last=24h&points=96&to=2026-11-20T10:00:00Z", "2026-11-19T10:00:00Z", "2026-11-20T10:00:00Z", "15m"},
		{"last=24h&points=96&to=2026-11-20T10:00:01Z", "2026-11-19T10:15:00Z", "2026-11-20T10:15:00Z", "15m"},
	} {
		var b body
		if code := get(t, base, "/v1/window?"+tc.query, &b); code != 200 {
			t.Fatalf("%s: status %d", tc.query, code)
		}
		step, _ := time.ParseDuration(tc.step)
		if b.From != tc.from || b.To != tc.to || b.Step != int64(step/time.Second) || b.Pane != 60 {
			t.Errorf("%s: %+v, want from %s to %s step %s pane 60", tc.query, b, tc.from, tc.to, tc.step)
		}
		// The window is a question every view answers as asked.
		v := url.Values{"from": {b.From}, "to": {b.To}, "step": {tc.step}}
		var tr trafficResp
		if code := get(t, base, "/v1/traffic?"+v.Encode(), &tr); code != 200 || tr.From != b.From || tr.To != b.To {
			t.Errorf("%s: traffic over the window: %d, from %s to %s", tc.query, code, tr.From, tr.To)
		}
	}
	for _, bad := range []struct{ query, param string }{
		{"points=96", "last"},
		{"last=-1h&points=96", "last"},
		{"last=800h&points=96", "last"},
		{"last=1h", "points"},
		{"last=1h&points=x", "points"},
		{"last=1h&points=5000", "points"},
		{"last=1h&points=5&to=yesterday", "to"},
	} {
		var e struct{ Error string }
		if code := get(t, base, "/v1/window?"+bad.query, &e); code != 400 || !containsParam(e.Error, bad.param) {
			t.Errorf("%s: %d %q, want 400 naming %s", bad.query, code, e.Error, bad.param)
		}
	}
}

func containsParam(msg, param string) bool {
	return len(msg) > len("parameter "+param) && msg[:len("parameter "+param)] == "parameter "+param
}
