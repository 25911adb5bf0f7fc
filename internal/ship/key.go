package ship

import (
	"strconv"

	"github.com/loglambda/loglambda/schemas/event"
)

// keyFields are the Event fields --key may name besides extra fields.
var keyFields = []string{"host", "instance", "level", "component", "user", "ip", "method", "path", "query", "status", "msg"}

// keyValue returns the value of the field named by --key, or "" when the
// event has none. "-" (the access-log placeholder for "no user") counts as
// none, so anonymous requests are spread over partitions rather than all
// hashed to one.
func keyValue(ev *event.Event, field string) string {
	var v string
	switch field {
	case "host":
		v = ev.Host
	case "instance":
		v = ev.Instance
	case "level":
		v = ev.Level
	case "component":
		v = ev.Component
	case "user":
		v = ev.User
	case "ip":
		v = ev.IP
	case "method":
		v = ev.Method
	case "path":
		v = ev.Path
	case "query":
		v = ev.Query
	case "status":
		if ev.Status != 0 {
			v = strconv.Itoa(int(ev.Status))
		}
	case "msg":
		v = ev.Msg
	default:
		v = ev.Fields[field]
	}
	if v == "-" {
		return ""
	}
	return v
}
