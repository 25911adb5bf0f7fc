package formats

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/loglambda/loglambda/schemas/event"
)

func TestCombined(t *testing.T) {
	p := mustParser(t, "combined")
	tests := []struct {
		name string
		line string
		want event.Event
	}{
		{
			name: "apache docs example",
			line: `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`,
			want: event.Event{
				Time: utc(2000, 10, 10, 20, 55, 36, 0), IP: "127.0.0.1", User: "frank", Level: "INFO",
				Method: "GET", Path: "/apache_pb.gif", Status: 200, Bytes: 2326,
				Fields: map[string]string{"protocol": "HTTP/1.0", "referrer": "http://www.example.com/start.html", "agent": "Mozilla/4.08 [en] (Win98; I ;Nav)"},
			},
		},
		{
			name: "nginx search with query, no user, no referrer",
			line: `203.0.113.9 - - [17/May/2015:10:05:03 +0000] "GET /search?q=red+shoes&page=2 HTTP/1.1" 200 5120 "-" "curl/8.5.0"`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 0), IP: "203.0.113.9", Level: "INFO",
				Method: "GET", Path: "/search", Query: "q=red+shoes&page=2", Status: 200, Bytes: 5120,
				Fields: map[string]string{"protocol": "HTTP/1.1", "agent": "curl/8.5.0"},
			},
		},
		{
			name: "5xx is ERROR, bytes dash is 0, ident kept",
			line: `2001:db8::1 ident42 - [01/Jan/2024:00:00:00 +0530] "POST /api/v1/orders HTTP/2.0" 503 - "https://shop.example/cart" "Mozilla/5.0"`,
			want: event.Event{
				Time: utc(2023, 12, 31, 18, 30, 0, 0), IP: "2001:db8::1", Level: "ERROR",
				Method: "POST", Path: "/api/v1/orders", Status: 503,
				Fields: map[string]string{"ident": "ident42", "protocol": "HTTP/2.0", "referrer": "https://shop.example/cart", "agent": "Mozilla/5.0"},
			},
		},
		{
			name: "4xx is WARN",
			line: `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /missing HTTP/1.1" 404 153 "-" "-"`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 0), IP: "10.0.0.1", Level: "WARN",
				Method: "GET", Path: "/missing", Status: 404, Bytes: 153,
				Fields: map[string]string{"protocol": "HTTP/1.1"},
			},
		},
		{
			name: "request dash: connection closed before the request",
			line: `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "-" 408 0 "-" "-"`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 0), IP: "10.0.0.1", Level: "WARN", Status: 408,
			},
		},
		{
			name: "TLS handshake on the HTTP port",
			line: `198.51.100.7 - - [17/May/2015:10:05:03 +0000] "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" 400 157 "-" "-"`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 0), IP: "198.51.100.7", Level: "WARN", Status: 400, Bytes: 157,
				Fields: map[string]string{"request": `\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03`},
			},
		},
		{
			name: "junk request with spaces",
			line: `198.51.100.7 - - [17/May/2015:10:05:03 +0000] "<script> alert(1) </script>" 400 0 "-" "-"`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 0), IP: "198.51.100.7", Level: "WARN", Status: 400,
				Fields: map[string]string{"request": "<script> alert(1) </script>"},
			},
		},
		{
			name: "HTTP/0.9 request without protocol",
			line: `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /" 200 10 "-" "-"`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 0), IP: "10.0.0.1", Level: "INFO", Method: "GET", Path: "/", Status: 200, Bytes: 10,
			},
		},
		{
			name: "escaped quotes in agent and extra nginx fields",
			line: `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 1 "-" "say \"hi\" \\o/" "192.0.2.1" 0.012`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 0), IP: "10.0.0.1", Level: "INFO", Method: "GET", Path: "/a", Status: 200, Bytes: 1,
				Fields: map[string]string{"protocol": "HTTP/1.1", "agent": `say "hi" \o/`, "extra": `"192.0.2.1" 0.012`},
			},
		},
		{
			name: "CRLF line ending and trailing spaces",
			line: "10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"-\"  \r\n",
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 0), IP: "10.0.0.1", Level: "INFO", Method: "GET", Path: "/a", Status: 200, Bytes: 1,
				Fields: map[string]string{"protocol": "HTTP/1.1"},
			},
		},
		{
			name: "unreadable time is kept, not failed",
			line: `10.0.0.1 - - [yesterday] "GET /a HTTP/1.1" 200 1 "-" "-"`,
			want: event.Event{
				IP: "10.0.0.1", Level: "INFO", Method: "GET", Path: "/a", Status: 200, Bytes: 1,
				Fields: map[string]string{"protocol": "HTTP/1.1", "time": "yesterday"},
			},
		},
		{
			name: "31 February is not a time",
			line: `10.0.0.1 - - [31/Feb/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 1 "-" "-"`,
			want: event.Event{
				IP: "10.0.0.1", Level: "INFO", Method: "GET", Path: "/a", Status: 200, Bytes: 1,
				Fields: map[string]string{"protocol": "HTTP/1.1", "time": "31/Feb/2015:10:05:03 +0000"},
			},
		},
		{
			name: "ISO time in brackets (nginx $time_iso8601)",
			line: `10.0.0.1 - - [2015-05-17T10:05:03+02:00] "GET /a HTTP/1.1" 200 1 "-" "-"`,
			want: event.Event{
				Time: utc(2015, 5, 17, 8, 5, 3, 0), IP: "10.0.0.1", Level: "INFO", Method: "GET", Path: "/a", Status: 200, Bytes: 1,
				Fields: map[string]string{"protocol": "HTTP/1.1"},
			},
		},
		{
			name: "non-UTF-8 byte in the agent becomes U+FFFD",
			line: "10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"bot\xff\"",
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 0), IP: "10.0.0.1", Level: "INFO", Method: "GET", Path: "/a", Status: 200, Bytes: 1,
				Fields: map[string]string{"protocol": "HTTP/1.1", "agent": "bot\uFFFD"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWith(p, tc.line)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkEvent(t, tc.line, got, tc.want)
		})
	}
}

func TestCommon(t *testing.T) {
	p := mustParser(t, "common")
	tests := []struct {
		line string
		want event.Event
	}{
		{
			line: `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`,
			want: event.Event{
				Time: utc(2000, 10, 10, 20, 55, 36, 0), IP: "127.0.0.1", User: "frank", Level: "INFO",
				Method: "GET", Path: "/apache_pb.gif", Status: 200, Bytes: 2326,
				Fields: map[string]string{"protocol": "HTTP/1.0"},
			},
		},
		{
			// A combined line read as common: the rest is kept.
			line: `127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /x?y=1 HTTP/1.0" 500 -  "-" "agent"`,
			want: event.Event{
				Time: utc(2000, 10, 10, 20, 55, 36, 0), IP: "127.0.0.1", Level: "ERROR",
				Method: "GET", Path: "/x", Query: "y=1", Status: 500,
				Fields: map[string]string{"protocol": "HTTP/1.0", "extra": `"-" "agent"`},
			},
		},
	}
	for _, tc := range tests {
		got, err := parseWith(p, tc.line)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.line, err)
		}
		checkEvent(t, tc.line, got, tc.want)
	}
}

func TestAccessLogErrors(t *testing.T) {
	tests := []struct {
		spec, line, wantErr string
	}{
		{"combined", ``, "line ends before the client address"},
		{"combined", `10.0.0.1`, "line ends after the client address"},
		// A combined line cut after its bytes is kept: TestAccessLogCutTail.
		{"combined", `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 1 junk`, "referrer: want '\"'"},
		{"combined", `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200`, "line ends after the status"},
		{"combined", `10.0.0.1 - - [17/May/2015:10:05`, "time: no closing ']'"},
		{"combined", `10.0.0.1 - - 17/May/2015:10:05:03 "GET / HTTP/1.1" 200 1 "-" "-"`, "time: want '[' at byte 13"},
		{"combined", `10.0.0.1 - - [17/May/2015:10:05:03 +0000] GET / HTTP/1.1 200 1 "-" "-"`, "request: want '\"'"},
		{"combined", `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" OK 1 "-" "-"`, `status "OK" is not a 3-digit number`},
		{"combined", `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 12k "-" "-"`, `bytes "12k" is not a number`},
		{"combined", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "line ends after the client address"},
		{"combined", "\x00\x01\x02 \xfe\xff junk here", `time: want '[' at byte 16, found "here"`},
		{"combined", `{"ts":"2015-05-17T10:05:03Z","msg":"a json line"}`, "line ends after the remote user"},
		{"common", `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1"`, "line ends before the status"},
		{"common", `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200`, "line ends after the status"},
	}
	for _, tc := range tests {
		_, err := parseWith(mustParser(t, tc.spec), tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s %q: error %v, want it to contain %q", tc.spec, tc.line, err, tc.wantErr)
		}
		if err != nil && !strings.HasPrefix(err.Error(), tc.spec+": ") {
			t.Errorf("%s %q: error %q does not name the format", tc.spec, tc.line, err)
		}
	}
}

// TestAccessLogCutTail checks that a combined line cut off in or before
// its referrer or user agent is kept (these lines were parse errors before
// issue 9), with the request, status and bytes whole and what was cut
// named in Fields["truncated"].
func TestAccessLogCutTail(t *testing.T) {
	const head = `66.249.66.1 - - [17/May/2015:10:05:03 +0000] "GET /search?q=kafka HTTP/1.1" 200 235`
	for _, tc := range []struct {
		name, line            string
		truncated, ref, agent string
	}{
		{"Googlebot agent without its closing quote",
			head + ` "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html`,
			"agent", "", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html"},
		{"no user agent", head + ` "-"`, "agent", "", ""},
		{"no referrer, no user agent", head, "referrer,agent", "", ""},
		{"referrer cut", head + ` "https://example.com/a?b`, "referrer,agent", "https://example.com/a?b", ""},
		{"escaped quote in the cut agent", head + ` "-" "x \"y`, "agent", "", `x "y`},
		{"whole line", head + ` "-" "curl/8.0"`, "", "", "curl/8.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := parseWith(mustParser(t, "combined"), tc.line)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.line, err)
			}
			if ev.IP != "66.249.66.1" || ev.Method != "GET" || ev.Path != "/search" || ev.Query != "q=kafka" ||
				ev.Status != 200 || ev.Bytes != 235 || !ev.Time.Equal(time.Date(2015, 5, 17, 10, 5, 3, 0, time.UTC)) {
				t.Errorf("event %+v: want the client, time, request, status and bytes of the line", ev)
			}
			if got := ev.Fields["truncated"]; got != tc.truncated {
				t.Errorf("truncated %q, want %q", got, tc.truncated)
			}
			if ev.Fields["referrer"] != tc.ref || ev.Fields["agent"] != tc.agent {
				t.Errorf("referrer %q agent %q, want %q and %q", ev.Fields["referrer"], ev.Fields["agent"], tc.ref, tc.agent)
			}
		})
	}
}

// TestAccessHugeLine checks that a huge line costs no more than its size
// and that its error stays short.
func TestAccessHugeLine(t *testing.T) {
	line := `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /` + strings.Repeat("a", 1<<20)
	_, err := parseWith(mustParser(t, "combined"), line)
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error %v: want a short error", err)
	}
	long := `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /?q=` + strings.Repeat("x", 1<<20) + ` HTTP/1.1" 200 1 "-" "-"`
	ev, err := parseWith(mustParser(t, "combined"), long)
	if err != nil || len(ev.Query) != 2+1<<20 {
		t.Fatalf("long query: err %v, query length %d", err, len(ev.Query))
	}
}

func fuzzAccess(f *testing.F, spec string) {
	for _, s := range []string{
		`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`,
		`10.0.0.1 - - [17/May/2015:10:05:03 +0000] "-" 408 0 "-" "-"`,
		`10.0.0.1 - - [17/May/2015:10:05:03 +0000] "\x16\x03\x01" 400 0 "-" "-"`,
		`10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 1 "-" "say \"hi\"\\" extra`,
		`10.0.0.1 - - [17/May/2015:10:05`,
		"\x16\x03\x01\x02\x00",
		"",
	} {
		f.Add([]byte(s))
	}
	p := mustParser(f, spec)
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := parseWith(p, string(line))
		if err != nil {
			if !strings.HasPrefix(err.Error(), spec+": ") || len(err.Error()) > 300 {
				t.Fatalf("error %q: want a short error naming the format", err)
			}
			return
		}
		for _, s := range []string{ev.IP, ev.User, ev.Method, ev.Path, ev.Query, ev.Fields["agent"], ev.Fields["request"]} {
			if !utf8.ValidString(s) {
				t.Fatalf("field %q is not UTF-8", s)
			}
		}
		if ev.Level == "" || ev.Status < 0 || ev.Status > 999 || ev.Bytes < 0 {
			t.Fatalf("accepted line gave level %q status %d bytes %d", ev.Level, ev.Status, ev.Bytes)
		}
		if strings.ContainsAny(ev.Method+ev.Path, " \n") {
			t.Fatalf("method %q or path %q holds a space", ev.Method, ev.Path)
		}
	})
}

func FuzzCombined(f *testing.F) { fuzzAccess(f, "combined") }

func FuzzCommon(f *testing.F) { fuzzAccess(f, "common") }
