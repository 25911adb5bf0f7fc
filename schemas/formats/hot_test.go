package formats

import (
	"net/url"
	"strings"
	"testing"

	"github.com/loglambda/loglambda/schemas/event"
)

// refParamTerm is the param rule written with url.ParseQuery, the
// definition HotTerm.Extract must agree with.
func refParamTerm(params []string, query string) string {
	vals, _ := url.ParseQuery(query)
	for _, p := range params {
		if v, ok := vals[p]; ok && len(v) > 0 {
			return strings.ToLower(strings.TrimSpace(v[0]))
		}
	}
	return ""
}

func TestHotTermParam(t *testing.T) {
	h, err := NewHotTerm("param:q,Input")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ query, want string }{
		{"", ""},
		{"q=shoes", "shoes"},
		{"page=1&q=Red+Shoes&x=2", "red shoes"},
		{"q=red%20shoes", "red shoes"},
		{"q=%E2%82%AC", "€"},
		{"Input=Hats&q=shoes", "shoes"}, // q comes first in the rule
		{"Input=Hats", "hats"},
		{"q=first&q=second", "first"},
		{"q=bad%zz&q=good", "good"},        // a value that does not unescape is skipped
		{"q%zz=x&q=good", "good"},          // so is a key
		{"q=a;b&q=c", "c"},                 // ';' pairs are invalid
		{"%71=escaped+key", "escaped key"}, // %71 is 'q'
		{"q", ""},
		{"q=", ""},
		{"&&q=  Spaced  &&", "spaced"},
		{"qq=no&Q=no", ""},
		{"page=2", ""},
		{strings.Repeat("a=1&", maxScanParams) + "q=long", "long"},
	}
	for _, tt := range tests {
		ev := event.Event{Query: tt.query}
		got := h.Extract(&ev)
		if got != tt.want {
			t.Errorf("Extract(query %.40q) = %q, want %q", tt.query, got, tt.want)
		}
		if ref := refParamTerm([]string{"q", "Input"}, tt.query); got != ref {
			t.Errorf("Extract(query %.40q) = %q, url.ParseQuery gives %q", tt.query, got, ref)
		}
	}
}

func TestHotTermParamAllocs(t *testing.T) {
	h, err := NewHotTerm("param:q,Input")
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{Query: "q=shoes&page=1"}
	if n := testing.AllocsPerRun(100, func() { _ = h.Extract(&ev) }); n != 0 {
		t.Errorf("Extract allocates %.0f times per event, want 0", n)
	}
}
