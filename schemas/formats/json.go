package formats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/loglambda/loglambda/schemas/event"
)

// jsonFields are the Event fields a JSON line can set, by their default key.
// "url" is accepted as well as "path": a url is split into path and query.
var jsonFields = []string{"ts", "host", "instance", "level", "user", "ip", "method", "url", "path", "status", "bytes", "latency_ms", "msg", "component"}

// JSON parses one JSON object per line. Keys named as the Event fields
// (ts, host, instance, level, user, ip, method, url or path, status, bytes,
// latency_ms, msg, component) fill them; every other key is kept in
// Event.Fields with its JSON text (strings unquoted).
type JSON struct {
	spec string
	// key maps a JSON key to the Event field it fills.
	key map[string]string
}

// NewJSON returns the JSON parser. mapping renames source keys, as
// "ts=@timestamp,msg=message": the Event field ts is read from "@timestamp".
func NewJSON(mapping string) (*JSON, error) {
	j := &JSON{spec: "json", key: make(map[string]string, len(jsonFields))}
	for _, f := range jsonFields {
		j.key[f] = f
	}
	if mapping != "" {
		j.spec = "json:" + mapping
		for _, kv := range strings.Split(mapping, ",") {
			field, src, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || src == "" {
				return nil, fmt.Errorf("json mapping %q: want field=key", kv)
			}
			known := false
			for _, f := range jsonFields {
				known = known || f == field
			}
			if !known {
				return nil, fmt.Errorf("json mapping %q: unknown field %q (known: %s)", kv, field, strings.Join(jsonFields, ", "))
			}
			delete(j.key, field)
			j.key[src] = field
		}
	}
	return j, nil
}

// Spec implements Parser.
func (j *JSON) Spec() string { return j.spec }

// Parse implements Parser.
func (j *JSON) Parse(line []byte, ev *event.Event) error {
	line = bytes.TrimSpace(line)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return fmt.Errorf("json: %w", err)
	}
	for k, raw := range m {
		field, ok := j.key[k]
		if !ok {
			if ev.Fields == nil {
				ev.Fields = make(map[string]string)
			}
			ev.Fields[k] = jsonText(raw)
			continue
		}
		s := jsonText(raw)
		var err error
		switch field {
		case "ts":
			ev.Time, err = ParseTime(s)
		case "host":
			ev.Host = s
		case "instance":
			ev.Instance = s
		case "level":
			ev.Level = NormalizeLevel(s)
		case "component":
			ev.Component = s
		case "user":
			ev.User = s
		case "ip":
			ev.IP = s
		case "method":
			ev.Method = s
		case "url", "path":
			ev.Path, ev.Query, _ = strings.Cut(s, "?")
		case "status":
			var n int64
			n, err = strconv.ParseInt(s, 10, 32)
			ev.Status = int32(n)
		case "bytes":
			ev.Bytes, err = strconv.ParseInt(s, 10, 64)
		case "latency_ms":
			ev.LatencyMS, err = strconv.ParseFloat(s, 64)
		case "msg":
			ev.Msg = s
		}
		if err != nil && s != "" && s != "null" {
			return fmt.Errorf("json field %q: %w", k, err)
		}
	}
	return nil
}

// jsonText returns a JSON value as text: strings unquoted, null empty, other
// values as written.
func jsonText(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// NormalizeLevel maps level spellings to one upper-case name, so that
// "warning", "WARN" and "W" count as the same level.
func NormalizeLevel(s string) string {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch u {
	case "W", "WARNING":
		return "WARN"
	case "E", "ERR":
		return "ERROR"
	case "I", "INFORMATION":
		return "INFO"
	case "D":
		return "DEBUG"
	case "F", "CRITICAL", "CRIT", "SEVERE":
		return "FATAL"
	}
	return u
}
