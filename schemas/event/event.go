// Package event defines the Event: one structured log record, the unit every
// layer of loglambda works on. Speed builds views from Events, batch stores
// them in the Parquet lake (with the raw line beside the parsed columns, so a
// parser fix can be replayed over the past) and recomputes the same views.
//
// The Arrow schema in arrow.go is the single definition of the lake's
// columns; the Parquet files are written from it.
package event

import (
	"strconv"
	"time"
)

// Event is one parsed log record. A zero value of a field means "absent": an
// access log has no Instance, an application log no Status.
type Event struct {
	// Time is the event time from the line, in UTC. When the line has no
	// usable time it is the ingest time and TimeMissing is set, so the record
	// is still counted and can be found by the operator.
	Time        time.Time
	TimeMissing bool
	// IngestTime is when loglambda first saw the record (the Kafka record
	// timestamp when it came through Kafka).
	IngestTime time.Time

	Host      string
	Instance  string
	Level     string // upper case: DEBUG, INFO, WARN, ERROR, FATAL...
	Component string
	User      string
	IP        string
	Method    string
	Path      string // URL path without the query
	Query     string // raw query string without '?'
	Status    int32
	Bytes     int64
	LatencyMS float64
	Msg       string

	// HotTerm is the search term extracted by the hot-term rule
	// (formats.HotTerm); empty when the record has none.
	HotTerm string

	// UV is the visitor identity picked by the identity rule
	// (formats.UVField, --uv-field): the first of the rule's fields with a
	// value. Empty when no rule ran or none of its fields had a value;
	// Visitor then falls back to UVID.
	UV string

	// Fields holds what the format found but the Event has no column for
	// (unknown JSON keys, extra named groups), so nothing is lost.
	Fields map[string]string

	// ParseError is set when the line could not be parsed; the event then
	// carries only Raw, the times and provenance, and is still kept.
	ParseError string

	// Raw is the original line exactly as received.
	Raw []byte

	// Provenance: where the record was read from. Format is the spec of
	// the parser that read the line; FormatDefault says it was the
	// consumer's default format (--format), the record having no format
	// header, so that a new default re-parses it (batch's re-parse) and
	// not a record whose producer named its format. False also in rows
	// of lake files written before it was kept: their format stays.
	Format        string
	FormatDefault bool
	Topic         string
	Partition     int32
	Offset        int64
}

// Text returns a field of the event as text, by its column name: the
// string columns (host, instance, level, component, user, ip, method,
// path, query, msg), status in decimal ("" when unset), else the extra
// field of that name. The hot term's field rule, the visitor rule and
// ship's partition key all read fields by name through it.
func (e *Event) Text(name string) string {
	switch name {
	case "host":
		return e.Host
	case "instance":
		return e.Instance
	case "level":
		return e.Level
	case "component":
		return e.Component
	case "user":
		return e.User
	case "ip":
		return e.IP
	case "method":
		return e.Method
	case "path":
		return e.Path
	case "query":
		return e.Query
	case "status":
		if e.Status == 0 {
			return ""
		}
		return strconv.Itoa(int(e.Status))
	case "msg":
		return e.Msg
	}
	return e.Fields[name]
}

// UVID is the default identity counted by unique visitors: the user,
// falling back to the client IP when the user is empty or "-" (the
// access-log placeholder).
func (e *Event) UVID() string {
	if e.User != "" && e.User != "-" {
		return e.User
	}
	return e.IP
}

// Visitor is the identity counted by unique visitors: UV when the identity
// rule found one, else UVID. The fallback keeps events built without a
// rule (tests, old lake files, whose uv column is empty or absent) counted
// as they always were; batch's SQL is the same expression over the lake's
// uv, user and ip columns.
func (e *Event) Visitor() string {
	if e.UV != "" {
		return e.UV
	}
	return e.UVID()
}

// UVIDSQL is UVID as a SQL expression over the lake's columns, for DuckDB.
// It is the whole visitor expression where no file has the uv column
// (DuckDB cannot name a column no file has).
const UVIDSQL = `CASE WHEN "user" <> '' AND "user" <> '-' THEN "user" ELSE ip END`

// VisitorSQL is Visitor as a SQL expression over the lake's uv, user and
// ip columns: batch recompute and serving's exact distinct counts both
// use it, so they count the same visitors as speed. A file written before
// the uv column has NULL there, which falls back to UVIDSQL.
const VisitorSQL = `CASE WHEN uv <> '' THEN uv ELSE ` + UVIDSQL + ` END`
