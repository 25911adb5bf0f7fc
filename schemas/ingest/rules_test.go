package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/formats"
)

// TestWithJSONMap checks that --map becomes the json spec that travels in
// the format header, and that the spec maps the fields it names.
func TestWithJSONMap(t *testing.T) {
	for _, tc := range []struct {
		format, mapping, want, err string
	}{
		{"json", "", "json", ""},
		{"combined", "", "combined", ""},
		{"json", "ts=@timestamp,msg=message", "json:ts=@timestamp,msg=message", ""},
		{"combined", "ts=@timestamp", "", "needs --format json"},
		{"json:ts=time", "msg=message", "", "needs --format json"},
		{"json", "nope=x", "", `unknown field "nope"`},
	} {
		got, err := WithJSONMap(tc.format, tc.mapping)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("WithJSONMap(%q, %q) = %q, %v; want error %q", tc.format, tc.mapping, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("WithJSONMap(%q, %q) = %q, %v; want %q", tc.format, tc.mapping, got, err, tc.want)
		}
	}
	spec, _ := WithJSONMap("json", "ts=@timestamp,msg=message")
	p, err := formats.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	ev := formats.ParseLine(p, nil, []byte(`{"@timestamp":"2026-11-20T10:01:02Z","message":"disk full","level":"error"}`), time.Now())
	if ev.Msg != "disk full" || !ev.Time.Equal(time.Date(2026, 11, 20, 10, 1, 2, 0, time.UTC)) || ev.Level != "ERROR" {
		t.Fatalf("mapped event: msg %q time %v level %q", ev.Msg, ev.Time, ev.Level)
	}
}
