package event

import "testing"

func TestText(t *testing.T) {
	ev := &Event{Host: "h", Instance: "i", Level: "ERROR", Component: "c", User: "u", IP: "1.2.3.4",
		Method: "GET", Path: "/p", Query: "q=1", Status: 404, Msg: "m", Fields: map[string]string{"x": "y", "status": "shadowed"}}
	for _, c := range []struct{ name, want string }{
		{"host", "h"}, {"instance", "i"}, {"level", "ERROR"}, {"component", "c"}, {"user", "u"}, {"ip", "1.2.3.4"},
		{"method", "GET"}, {"path", "/p"}, {"query", "q=1"}, {"status", "404"}, {"msg", "m"}, {"x", "y"}, {"absent", ""},
	} {
		if got := ev.Text(c.name); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	if got := (&Event{}).Text("status"); got != "" {
		t.Errorf("unset status as %q, want empty", got)
	}
}
