package formats

import (
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/loglambda/loglambda/schemas/event"
)

// TestParseBorrowed: ParseBorrowedTo gives the event ParseLineTo gives,
// line by line, over valid, escaped, broken and non-UTF-8 lines of the
// text formats, and its fields share the line's bytes when it can.
func TestParseBorrowed(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	hot, err := NewHotTerm("param:q")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		spec   string
		line   string
		shares bool // the host (json) or ip (access) is a substring of the line
	}{
		{"json", `{"ts":"2026-12-07T09:59:58.5Z","host":"web-1","user":"ana","ip":"10.0.0.1","method":"GET","url":"/search?q=red+shoe","status":200,"bytes":1200,"latency_ms":3.5,"level":"info","msg":"ok","extra":{"a":[1,2]}}`, true},
		{"json", "{\"host\":\"web-2\",\"msg\":\"tab\\there \\u00e9\"}\r\n", true},
		{"json", `{"host":"web-3","msg":"bad \xff byte"}`, false},
		{"json", `{"host":"web-4",`, false},
		{"json", ``, false},
		{"json", `[1,2]`, false},
		{"combined", `10.1.2.3 - bob [07/Dec/2026:09:59:58 +0000] "GET /a?q=x HTTP/1.1" 404 12 "-" "curl/8"` + "\n", true},
		{"common", `10.1.2.4 - - [07/Dec/2026:09:59:58 +0000] "POST /b HTTP/1.1" 500 -   `, true},
		{"common", `garbage`, false},
	}
	for _, c := range cases {
		p, err := New(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		line := []byte(c.line)
		var want, got event.Event
		ParseLineTo(&want, p, hot, append([]byte(nil), line...), at)
		ParseBorrowedTo(&got, p, hot, line, at)
		want.Raw, got.Raw = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s %q: borrowed\n%+v\ncopied\n%+v", c.spec, c.line, got, want)
		}
		field := got.Host
		if c.spec != "json" {
			field = got.IP
		}
		if shares := field != "" && inside(field, line); shares != c.shares {
			t.Errorf("%s %q: field %q shares the line's bytes: %v, want %v", c.spec, c.line, field, shares, c.shares)
		}
	}
}

// inside reports whether s's bytes are within b's.
func inside(s string, b []byte) bool {
	p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= lo && p < lo+uintptr(len(b))
}
