package formats

import (
	"fmt"
	"strings"

	"github.com/loglambda/loglambda/schemas/event"
)

// DefaultUVField is the default identity rule: the user, else the client
// IP, which is exactly event.UVID.
const DefaultUVField = "user,ip"

// UVField picks the identity counted by unique visitors (Event.UV). Built
// from a rule (--uv-field): a comma list of Event field names (user, ip,
// host, ...) or kept extra field names (a JSON key the Event has no column
// for, a named regex group); the first whose value is neither empty nor
// "-" (the access-log placeholder) is the visitor.
//
// Plain access logs have no user ("-" in every line), so "ip" counts
// clients; an app log that carries a session or customer id counts that
// ("session_id,user,ip"). When none of the fields has a value, UV stays
// empty and event.Visitor falls back to the default rule.
type UVField struct {
	rule   string
	fields []string
}

// NewUVField parses an identity rule.
func NewUVField(rule string) (*UVField, error) {
	u := &UVField{rule: rule}
	for _, f := range strings.Split(rule, ",") {
		if f = strings.TrimSpace(f); f != "" {
			u.fields = append(u.fields, f)
		}
	}
	if len(u.fields) == 0 {
		return nil, fmt.Errorf("uv-field %q: want a comma list of field names, e.g. %q or \"ip\"", rule, DefaultUVField)
	}
	return u, nil
}

// String returns the rule.
func (u *UVField) String() string { return u.rule }

// Extract returns the identity of ev by the rule, or "" when none of the
// fields has a value. Values are kept as they are (an IP or a user name is
// case-sensitive), unlike hot terms.
func (u *UVField) Extract(ev *event.Event) string {
	for _, f := range u.fields {
		if v := ev.Text(f); v != "" && v != "-" {
			return v
		}
	}
	return ""
}

// Apply sets ev.UV by the rule; u may be nil (no rule: UV stays empty) and
// events that did not parse get none, as they get no hot term.
func (u *UVField) Apply(ev *event.Event) {
	if u == nil || ev.ParseError != "" {
		return
	}
	ev.UV = u.Extract(ev)
}
