package formats

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/elastic/go-grok"

	"github.com/loglambda/loglambda/schemas/event"
)

// grokFields maps the capture names of the stock grok patterns to Event
// fields: both the classic Logstash names (clientip, verb, response...) and
// the ECS names Elastic's patterns use now (source.address,
// http.request.method...), so patterns written for either work. The Event
// field names themselves (ts, host, msg...) work as for regex. Names that map
// to "fields:X" go to Event.Fields["X"] under the name the access-log parser
// uses, so the same log reads the same whichever format parsed it.
var grokFields = map[string]string{
	"clientip":                    "ip",
	"source.address":              "ip",
	"source.ip":                   "ip",
	"client.ip":                   "ip",
	"client.address":              "ip",
	"ident":                       "fields:ident",
	"apache.access.user.identity": "fields:ident",
	"auth":                        "user",
	"user.name":                   "user",
	"timestamp":                   "ts",
	"@timestamp":                  "ts",
	"verb":                        "method",
	"http.request.method":         "method",
	"request":                     "url",
	"url.original":                "url",
	"httpversion":                 "fields:protocol",
	"http.version":                "fields:protocol",
	"response":                    "status",
	"http.response.status_code":   "status",
	"http.response.body.size":     "bytes",
	"referrer":                    "fields:referrer",
	"http.request.referrer":       "fields:referrer",
	"agent":                       "fields:agent",
	"user_agent.original":         "fields:agent",
	"message":                     "msg",
	"log.level":                   "level",
	"loglevel":                    "level",
	"logsource":                   "host",
	"host.hostname":               "host",
	"host.name":                   "host",
	"program":                     "component",
	"process.name":                "component",
}

// Grok parses lines with a grok pattern (Logstash's named-regexp macros),
// through github.com/elastic/go-grok with its full pattern set, e.g.
// grok:%{COMBINEDAPACHELOG} or grok:%{SYSLOGLINE}. Only named captures
// (%{IP:clientip}) are kept; they fill Event fields by the names in
// grokFields or by the Event field names, the rest go to Event.Fields.
// A line the pattern does not match is an error.
//
// As with regex, a status without a level gives the level (5xx ERROR, 4xx
// WARN, else INFO).
//
// Grok is convenient but slow: every macro is expanded into one large
// regexp (COMBINEDAPACHELOG carries the whole IPv6 grammar) and the library
// returns a map per line. Measured here, %{COMBINEDAPACHELOG} reads a few
// thousand lines/s per core, about 7 times more when anchored
// (grok:^%{COMBINEDAPACHELOG}, which spares the engine a start at every
// byte), against several hundred thousand for the combined format. Prefer
// combined, json or regex for busy logs.
//
// The stock access-log patterns (%{COMBINEDAPACHELOG}, %{COMMONAPACHELOG}
// and their HTTPD_ names, anchored or not) are as lenient as the combined
// and common formats: a line whose trailing quoted fields (referrer, user
// agent) are cut off, which the pattern rejects, is read by the access-log
// parser and kept with Fields["truncated"], its request, status and bytes
// counted.
type Grok struct {
	spec string
	g    *grok.Grok
	tp   *TimeParser
	// access reads the truncated lines of a stock access-log pattern;
	// nil for other patterns.
	access *AccessLog
}

// accessPatterns are the stock grok patterns of access logs, with the
// access-log parser that reads the same lines.
var accessPatterns = map[string]func() *AccessLog{
	"%{COMBINEDAPACHELOG}": NewCombined, "%{HTTPD_COMBINEDLOG}": NewCombined,
	"%{COMMONAPACHELOG}": NewCommon, "%{HTTPD_COMMONLOG}": NewCommon,
}

// NewGrok compiles pattern against the library's complete pattern set.
func NewGrok(pattern string) (*Grok, error) {
	if pattern == "" {
		return nil, errors.New("format grok: empty pattern (want grok:<pattern>, e.g. grok:%{COMBINEDAPACHELOG})")
	}
	g, err := grok.NewComplete()
	if err != nil {
		return nil, fmt.Errorf("format grok: load patterns: %w", err)
	}
	if err := g.Compile(pattern, true); err != nil {
		return nil, fmt.Errorf("format grok %q: %w", pattern, err)
	}
	if !g.HasCaptureGroups() {
		return nil, fmt.Errorf("format grok %q: no named capture (write %%{IP:clientip} and the like)", pattern)
	}
	gp := &Grok{spec: "grok:" + pattern, g: g}
	if newAccess, ok := accessPatterns[strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(pattern), "^"), "$")]; ok {
		gp.access = newAccess()
	}
	return gp, nil
}

// Spec implements Parser.
func (gp *Grok) Spec() string { return gp.spec }

// setTimeParser implements timeConfigurable.
func (gp *Grok) setTimeParser(tp *TimeParser) {
	gp.tp = tp
	if gp.access != nil {
		gp.access.setTimeParser(tp)
	}
}

// Parse implements Parser.
func (gp *Grok) Parse(line []byte, ev *event.Event) error {
	s := lineText(line)
	caps, err := gp.g.ParseString(s)
	if err != nil {
		return fmt.Errorf("grok: %w", err)
	}
	// The library returns an empty map both for no match and for a match
	// whose captures are all empty; only the first is an error.
	if len(caps) == 0 && !gp.g.MatchString(s) {
		if gp.access != nil && gp.parseTruncated(line, ev) {
			return nil
		}
		return fmt.Errorf("grok: line does not match %q", clip(gp.spec[len("grok:"):]))
	}
	for name, text := range caps {
		field, ok := grokFields[name]
		if !ok && isEventField(name) {
			field, ok = name, true
		}
		if !ok {
			putField(ev, name, text)
			continue
		}
		if k, isExtra := strings.CutPrefix(field, "fields:"); isExtra {
			switch k {
			case "protocol":
				// %{NUMBER:httpversion} captures "1.1" after a literal HTTP/.
				if !strings.HasPrefix(text, "HTTP/") {
					text = "HTTP/" + text
				}
			case "referrer", "agent":
				// The classic patterns capture %{QS:referrer}, quotes included.
				if len(text) >= 2 && text[0] == '"' && text[len(text)-1] == '"' {
					text = text[1 : len(text)-1]
				}
			}
			if text == "-" { // the access-log placeholder for absent
				continue
			}
			putField(ev, k, text)
			continue
		}
		if field == "user" && text == "-" {
			continue
		}
		if err := setEventField(ev, gp.tp, field, name, text); err != nil {
			return fmt.Errorf("grok: %w", err)
		}
	}
	if ev.Level == "" && ev.Status > 0 {
		ev.Level = statusLevel(ev.Status)
	}
	return nil
}

// parseTruncated reads a line the access-log pattern rejected with the
// access-log parser, and keeps the result only when that parser found the
// line truncated (Fields["truncated"]): any other line the pattern
// rejects stays an error, as the pattern says.
func (gp *Grok) parseTruncated(line []byte, ev *event.Event) bool {
	try := *ev
	try.Fields = maps.Clone(ev.Fields)
	if err := gp.access.Parse(line, &try); err != nil || try.Fields["truncated"] == "" {
		return false
	}
	*ev = try
	return true
}
