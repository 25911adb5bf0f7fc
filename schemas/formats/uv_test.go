package formats

import (
	"testing"

	"github.com/loglambda/loglambda/schemas/event"
)

func TestUVField(t *testing.T) {
	full := event.Event{User: "alice", IP: "10.0.0.1", Host: "web-1", Fields: map[string]string{"session": "s-42", "dash": "-"}}
	noUser := event.Event{User: "-", IP: "10.0.0.2"}
	tests := []struct {
		rule string
		ev   event.Event
		want string
	}{
		{"user,ip", full, "alice"},
		{"user,ip", noUser, "10.0.0.2"},
		{"user,ip", event.Event{User: "", IP: "10.0.0.3"}, "10.0.0.3"},
		{"user,ip", event.Event{User: "-", IP: "-"}, ""},
		{"user,ip", event.Event{}, ""},
		{"ip", full, "10.0.0.1"},
		{"ip", event.Event{User: "bob"}, ""},
		{"session,user,ip", full, "s-42"},
		{"session,user,ip", noUser, "10.0.0.2"},
		{"dash,host", full, "web-1"},
		{" ip , user ", full, "10.0.0.1"},
		{"missing", full, ""},
	}
	for _, tc := range tests {
		u, err := NewUVField(tc.rule)
		if err != nil {
			t.Fatalf("NewUVField(%q): %v", tc.rule, err)
		}
		ev := tc.ev
		u.Apply(&ev)
		if ev.UV != tc.want {
			t.Errorf("rule %q on user %q ip %q: UV %q, want %q", tc.rule, tc.ev.User, tc.ev.IP, ev.UV, tc.want)
		}
	}
}

// TestUVFieldDefaultIsUVID checks that the default rule, with the
// fallback of event.Visitor, counts exactly what event.UVID always did.
func TestUVFieldDefaultIsUVID(t *testing.T) {
	u, err := NewUVField(DefaultUVField)
	if err != nil {
		t.Fatal(err)
	}
	vals := []string{"", "-", "alice", "10.0.0.1", " - ", "--"}
	for _, user := range vals {
		for _, ip := range vals {
			ev := event.Event{User: user, IP: ip}
			u.Apply(&ev)
			if got, want := ev.Visitor(), ev.UVID(); got != want {
				t.Errorf("user %q ip %q: Visitor %q, UVID %q", user, ip, got, want)
			}
		}
	}
}

func TestUVFieldSkipsParseErrorsAndNil(t *testing.T) {
	u, _ := NewUVField("ip")
	ev := event.Event{IP: "10.0.0.1", ParseError: "bad"}
	u.Apply(&ev)
	if ev.UV != "" {
		t.Errorf("parse error got UV %q", ev.UV)
	}
	var none *UVField
	ev = event.Event{IP: "10.0.0.1"}
	none.Apply(&ev)
	if ev.UV != "" || ev.Visitor() != "10.0.0.1" {
		t.Errorf("nil rule: UV %q Visitor %q", ev.UV, ev.Visitor())
	}
}

func TestNewUVFieldErrors(t *testing.T) {
	for _, rule := range []string{"", ",", " , "} {
		if _, err := NewUVField(rule); err == nil {
			t.Errorf("NewUVField(%q): want an error", rule)
		}
	}
}

// TestUVFieldOnAccessLog is the case the rule exists for: a combined
// access log has "-" as user, the client IP is the visitor.
func TestUVFieldOnAccessLog(t *testing.T) {
	u, _ := NewUVField("ip")
	line := `203.0.113.9 - - [10/Mar/2026:11:59:58 +0000] "GET /search?q=shoes HTTP/1.1" 200 512 "-" "curl/8"`
	ev := ParseLine(NewCombined(), nil, []byte(line), testIngest)
	u.Apply(&ev)
	if ev.ParseError != "" || ev.UV != "203.0.113.9" {
		t.Errorf("UV %q (parse error %q), want 203.0.113.9", ev.UV, ev.ParseError)
	}
}
