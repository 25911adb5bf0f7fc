package formats

import (
	"strings"
	"testing"

	"github.com/loglambda/loglambda/schemas/event"
)

func TestGrok(t *testing.T) {
	runParseCases(t, []parseCase{
		{
			name: "COMBINEDAPACHELOG reads as the combined format does",
			spec: "grok:%{COMBINEDAPACHELOG}",
			line: `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 503 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`,
			want: event.Event{
				Time: utc(2000, 10, 10, 20, 55, 36, 0), IP: "127.0.0.1", User: "frank", Level: "ERROR",
				Method: "GET", Path: "/apache_pb.gif", Query: "x=1", Status: 503, Bytes: 2326,
				Fields: map[string]string{"protocol": "HTTP/1.0", "referrer": "http://www.example.com/start.html", "agent": "Mozilla/4.08 [en] (Win98; I ;Nav)"},
			},
		},
		{
			name: "classic Logstash field names",
			spec: `grok:%{IPORHOST:clientip} %{USER:ident} %{USER:auth} \[%{HTTPDATE:timestamp}\] "%{WORD:verb} %{NOTSPACE:request} HTTP/%{NUMBER:httpversion}" %{NUMBER:response} (?:%{NUMBER:bytes}|-) %{QS:referrer} %{QS:agent}`,
			line: `10.1.2.3 - - [17/May/2015:10:05:03 +0000] "GET /search?q=shoes HTTP/1.1" 404 - "-" "curl/8.5.0"`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 0), IP: "10.1.2.3", Level: "WARN",
				Method: "GET", Path: "/search", Query: "q=shoes", Status: 404,
				Fields: map[string]string{"protocol": "HTTP/1.1", "agent": "curl/8.5.0"},
			},
		},
		{
			name: "app log with level and message",
			spec: `grok:%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:log.level} %{NOTSPACE:thread} %{GREEDYDATA:message}`,
			line: `2015-05-17 10:05:03,120 ERROR [main] Connection refused`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 120000000), Level: "ERROR", Msg: "Connection refused",
				Fields: map[string]string{"thread": "[main]"},
			},
		},
	})
}

func TestGrokErrors(t *testing.T) {
	checkNewErrors(t, []newErrorCase{
		{"grok:", "empty pattern"},
		{"grok:%{NOSUCHPATTERN:x}", "NOSUCHPATTERN"},
		{"grok:%{IP} %{WORD}", "no named capture"},
	})
	p := mustParser(t, "grok:%{COMBINEDAPACHELOG}")
	for _, line := range []string{
		"not an access log",
		// Not truncated but wrong: the pattern's verdict stands.
		`10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 1 junk`,
	} {
		if _, err := parseWith(p, line); err == nil || !strings.Contains(err.Error(), "grok: line does not match") {
			t.Errorf("%q: error %v, want no match", line, err)
		}
	}
}

// TestGrokTruncated: the stock access-log patterns keep a line whose user
// agent or referrer is cut off, as the combined format does, so the
// request still counts; the same line through both parsers gives the same
// event.
func TestGrokTruncated(t *testing.T) {
	for _, tc := range []struct{ spec, line, cut string }{
		{"grok:%{COMBINEDAPACHELOG}", `66.249.66.1 - - [17/May/2015:10:05:03 +0000] "GET /robots.txt HTTP/1.1" 200 235 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html`, "agent"},
		{"grok:^%{COMBINEDAPACHELOG}$", `66.249.66.1 - - [17/May/2015:10:05:03 +0000] "GET /a?q=x HTTP/1.1" 404 12 "http://exa`, "referrer,agent"},
		{"grok:%{HTTPD_COMBINEDLOG}", `10.0.0.9 - ann [17/May/2015:10:05:03 +0000] "POST /login HTTP/1.1" 500 0`, "referrer,agent"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := parseWith(mustParser(t, tc.spec), tc.line)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want, err := parseWith(mustParser(t, "combined"), tc.line)
			if err != nil {
				t.Fatalf("combined: %v", err)
			}
			if got.Fields["truncated"] != tc.cut || got.Status == 0 || got.Path == "" || got.IP == "" {
				t.Errorf("event %+v: want the request kept with truncated=%q", got, tc.cut)
			}
			checkEvent(t, tc.line, got, want)
		})
	}
}

func FuzzGrok(f *testing.F) {
	f.Add([]byte(`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326 "-" "x"`))
	f.Add([]byte(`127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "-" 400 - "-" "-"`))
	p := mustParser(f, "grok:%{COMBINEDAPACHELOG}")
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := parseWith(p, string(line))
		if err == nil && ev.Level == "" && ev.Status > 0 {
			t.Fatalf("status %d without level", ev.Status)
		}
	})
}
