package formats

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/loglambda/loglambda/schemas/event"
)

// HotTerm extracts the search term of an event, the key of the hot view.
// Built from a rule (--hot-term):
//
//	param:q,Input   the first of these URL query parameters that is present
//	field:NAME      an Event field (path, user, msg, ...) or a kept extra field
type HotTerm struct {
	rule   string
	params []string
	field  string
}

// NewHotTerm parses a hot-term rule.
func NewHotTerm(rule string) (*HotTerm, error) {
	kind, arg, _ := strings.Cut(rule, ":")
	h := &HotTerm{rule: rule}
	switch kind {
	case "param":
		for _, p := range strings.Split(arg, ",") {
			if p = strings.TrimSpace(p); p != "" {
				h.params = append(h.params, p)
			}
		}
		if len(h.params) == 0 {
			return nil, fmt.Errorf("hot-term %q: param: needs at least one parameter name", rule)
		}
	case "field":
		if arg == "" {
			return nil, fmt.Errorf("hot-term %q: field: needs a field name", rule)
		}
		h.field = arg
	default:
		return nil, fmt.Errorf("hot-term %q: want param:NAMES or field:NAME", rule)
	}
	return h, nil
}

// String returns the rule.
func (h *HotTerm) String() string { return h.rule }

// Extract returns the term of ev, or "" when it has none. Terms are
// trimmed and lower-cased so "Shoes" and "shoes " are one term.
func (h *HotTerm) Extract(ev *event.Event) string {
	var s string
	if h.field != "" {
		s = ev.Text(h.field)
	} else if ev.Query != "" {
		s = h.param(ev.Query)
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// maxScanParams bounds the query parameters param scans itself; a longer
// query goes through url.ParseQuery, which applies the standard library's
// own limit (GODEBUG urlmaxqueryparams) exactly.
const maxScanParams = 1000

// param returns the value of the first of h.params present in query, as
// url.ParseQuery would give it (its first value; pairs whose key or value
// does not unescape, or that hold a ';', are skipped). It scans the query
// instead of building url.Values: the map and slices ParseQuery allocates
// for every event cost more than the rest of the hot term, and a value
// without escapes comes back as a substring, without allocating.
func (h *HotTerm) param(query string) string {
	if strings.Count(query, "&") >= maxScanParams {
		vals, _ := url.ParseQuery(query)
		for _, p := range h.params {
			if v, ok := vals[p]; ok && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	for _, p := range h.params {
		if v, ok := firstParam(query, p); ok {
			return v
		}
	}
	return ""
}

// firstParam returns the unescaped value of the first valid pair of query
// whose unescaped key is name.
func firstParam(query, name string) (string, bool) {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
		}
		if k != name {
			continue
		}
		v, err := url.QueryUnescape(v) // v itself when it has no escapes
		if err != nil {
			continue
		}
		return v, true
	}
	return "", false
}
