package formats

import (
	"strings"
	"testing"

	"github.com/loglambda/loglambda/schemas/event"
)

// db2Header is a regex for the first line of a DB2 db2diag.log record.
const db2Header = `^(?P<ts>\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}\.\d+[+-]\d+) (?P<record>\S+)\s+LEVEL: (?P<level>\w+)`

func TestRegex(t *testing.T) {
	runParseCases(t, []parseCase{
		{
			name: "app log with every kind of group",
			spec: `regex:^(?P<ts>\S+ \S+) \[(?P<level>\w+)\] (?P<component>[\w.]+) host=(?P<host>\S+) user=(?P<user>\S+) (?P<method>[A-Z]+) (?P<url>\S+) (?P<status>\d+) (?P<bytes>\d+) (?P<latency_ms>[\d.]+)ms req=(?P<req_id>\w+) (?P<msg>.*)$`,
			line: `2024-02-29 23:59:59.250 [warning] shop.cart host=web-1 user=u7 POST /cart?id=9 502 17 12.5ms req=ab12 upstream timed out`,
			want: event.Event{
				Time: utc(2024, 2, 29, 23, 59, 59, 250000000), Level: "WARN", Component: "shop.cart", Host: "web-1", User: "u7",
				Method: "POST", Path: "/cart", Query: "id=9", Status: 502, Bytes: 17, LatencyMS: 12.5, Msg: "upstream timed out",
				Fields: map[string]string{"req_id": "ab12"},
			},
		},
		{
			name: "status without level gives the level",
			spec: `regex:(?P<ip>\S+) (?P<path>\S+) (?P<status>\d{3})`,
			line: `10.0.0.1 /a 404`,
			want: event.Event{IP: "10.0.0.1", Path: "/a", Status: 404, Level: "WARN"},
		},
		{
			name: "optional group that did not match is absent",
			spec: `regex:^(?P<msg>[^|]+)(?:\|(?P<instance>\w+))?(?:#(?P<query>\S+))?$`,
			line: `hello world`,
			want: event.Event{Msg: "hello world"},
		},
		{
			name: "DB2 record header with minute offset",
			spec: "regex:" + db2Header,
			line: `2014-10-19-12.19.46.033037-300 I5484A357          LEVEL: Error`,
			want: event.Event{
				Time: utc(2014, 10, 19, 17, 19, 46, 33037000), Level: "ERROR",
				Fields: map[string]string{"record": "I5484A357"},
			},
		},
		{
			name: "unreadable time kept under the group name",
			spec: `regex:^(?P<ts>\S+) (?P<msg>.*)`,
			line: `someday it happened`,
			want: event.Event{Msg: "it happened", Fields: map[string]string{"ts": "someday"}},
		},
	})
}

func TestRegexErrors(t *testing.T) {
	checkNewErrors(t, []newErrorCase{
		{"regex:", "empty pattern"},
		{"regex:(?P<msg>", "missing closing )"},
		{`regex:\d+ \w+`, "no named group"},
	})
	p := mustParser(t, `regex:^(?P<status>\S+) (?P<msg>.*)$`)
	for _, tc := range []struct{ line, wantErr string }{
		{"nospace", "regex: line does not match"},
		{"OK fine", `regex: field "status": status "OK" is not an integer`},
	} {
		if _, err := parseWith(p, tc.line); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Parse(%q): error %v, want it to contain %q", tc.line, err, tc.wantErr)
		}
	}
}

func FuzzRegex(f *testing.F) {
	for _, s := range []string{"2014-10-19-12.19.46.033037-300 I5484A357          LEVEL: Error", "x", "2014-10-19-12.19.46.0-0 a LEVEL: w"} {
		f.Add([]byte(s))
	}
	p := mustParser(f, "regex:"+db2Header)
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := parseWith(p, string(line))
		if err == nil && ev.Level == "" {
			t.Fatalf("matched %q without a level", line)
		}
	})
}
