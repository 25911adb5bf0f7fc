package ship

import (
	"github.com/loglambda/loglambda/schemas/event"
)

// keyFields are the Event fields --key may name besides extra fields.
var keyFields = []string{"host", "instance", "level", "component", "user", "ip", "method", "path", "query", "status", "msg"}

// keyValue returns the value of the field named by --key, or "" when the
// event has none. "-" (the access-log placeholder for "no user") counts as
// none, so anonymous requests are spread over partitions rather than all
// hashed to one.
func keyValue(ev *event.Event, field string) string {
	if v := ev.Text(field); v != "-" {
		return v
	}
	return ""
}
