package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/loglambda/loglambda/schemas/event"
)

func TestJSON(t *testing.T) {
	runParseCases(t, []parseCase{
		{
			name: "all event fields",
			spec: "json",
			line: `{"ts":"2015-05-17T10:05:03.5Z","host":"web-1","instance":"db2inst1","level":"warning","component":"api","user":"u42","ip":"10.0.0.1","method":"GET","url":"/search?q=shoes","status":404,"bytes":512,"latency_ms":12.5,"msg":"not found"}`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 500000000), Host: "web-1", Instance: "db2inst1", Level: "WARN", Component: "api",
				User: "u42", IP: "10.0.0.1", Method: "GET", Path: "/search", Query: "q=shoes", Status: 404, Bytes: 512, LatencyMS: 12.5, Msg: "not found",
			},
		},
		{
			name: "unknown keys kept with their JSON text",
			spec: "json",
			line: ` { "msg" : "a" , "n": -1.5e3, "ok": true, "none": null, "obj": {"a": [1, {"b": "}"}]}, "arr": [], "s": "x" } `,
			want: event.Event{
				Msg:    "a",
				Fields: map[string]string{"n": "-1.5e3", "ok": "true", "none": "", "obj": `{"a": [1, {"b": "}"}]}`, "arr": "[]", "s": "x"},
			},
		},
		{
			name: "escapes, surrogate pairs and a lone surrogate",
			spec: "json",
			line: `{"msg":"tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00 \ud800x","k\u0065y":"v\n"}`,
			want: event.Event{
				Msg:    "tab\there \"q\" \\ / é 😀 \uFFFDx",
				Fields: map[string]string{"key": "v\n"},
			},
		},
		{
			name: "mapping, epoch millis, status as string, path and query",
			spec: "json:ts=@timestamp,msg=message,level=severity",
			line: `{"@timestamp":1431857103123,"message":"hello","severity":"E","path":"/a","query":"?x=1","status":"500","ts":"kept"}`,
			want: event.Event{
				Time: utc(2015, 5, 17, 10, 5, 3, 123000000), Msg: "hello", Level: "ERROR", Path: "/a", Query: "x=1", Status: 500,
				Fields: map[string]string{"ts": "kept"},
			},
		},
		{
			name: "unreadable time kept under its key, duplicate key last wins",
			spec: "json",
			line: `{"ts":"soon","msg":"first","msg":"second"}`,
			want: event.Event{Msg: "second", Fields: map[string]string{"ts": "soon"}},
		},
		{
			name: "empty object",
			spec: "json",
			line: `{}`,
			want: event.Event{},
		},
		{
			name: "null and empty values are absent",
			spec: "json",
			line: `{"status":null,"bytes":"","level":null,"host":""}`,
			want: event.Event{},
		},
	})
}

func TestJSONErrors(t *testing.T) {
	p := mustParser(t, "json")
	tests := []struct{ line, wantErr string }{
		{``, "json: empty line"},
		{`   `, "json: empty line"},
		{`[1,2]`, "not a JSON object"},
		{`"str"`, "not a JSON object"},
		{"\x16\x03\x01\x02\x00", "not a JSON object"},
		{`{"msg":"a"`, "line ends where ',' or '}' was expected"},
		{`{"msg":"a`, "closing '\"' of a string"},
		{`{"msg":"a\`, "closing '\"' of a string"},
		{`{"msg" "a"}`, "want ':' after key at byte 7"},
		{`{"msg":}`, "want a value at byte 7"},
		{`{msg:"a"}`, "want a key at byte 1"},
		{`{"msg":"a",}`, "want a key at byte 11"},
		{`{"msg":"a"} trailing`, "want end of line after the object at byte 12"},
		{`{"n":01}`, "want ',' or '}'"},
		{`{"n":1.}`, "want a number"},
		{`{"n":-}`, "want a number"},
		{`{"n":tru}`, "want a value"},
		{`{"n":[1,2}`, "want ',' or ']'"},
		{"{\"msg\":\"a\x01b\"}", "control character 0x1"},
		{`{"msg":"\x41"}`, `bad escape \x`},
		{`{"msg":"\u12"}`, `bad \u escape`},
		{`{"status":"OK"}`, `json: field "status": status "OK" is not an integer`},
		{`{"bytes":1.5}`, `bytes "1.5" is not an integer`},
		{`{"latency_ms":"fast"}`, `latency_ms "fast" is not a number`},
		{`{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, "nesting deeper than 512"},
	}
	for _, tc := range tests {
		_, err := parseWith(p, tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%q: error %v, want it to contain %q", clip(tc.line), err, tc.wantErr)
		}
	}
}

func TestJSONMappingErrors(t *testing.T) {
	for _, spec := range []string{"json:ts", "json:ts=", "json:when=@timestamp"} {
		if _, err := New(spec); err == nil {
			t.Errorf("New(%q): want an error", spec)
		}
	}
}

// checkJSONAgainstStdlib holds the scanner to encoding/json: it accepts a
// line only if encoding/json does, and for an object encoding/json accepts
// it keeps every unmapped key with the text encoding/json gives it.
func checkJSONAgainstStdlib(t *testing.T, p *JSON, line []byte) {
	ev, err := parseWith(p, string(line))
	valid := json.Valid(line)
	if err == nil && !valid {
		t.Fatalf("accepted %q, which encoding/json rejects", line)
	}
	if err != nil {
		if len(err.Error()) > 300 {
			t.Fatalf("error is %d bytes long", len(err.Error()))
		}
		trimmed := bytes.TrimSpace(line)
		if valid && len(trimmed) > 0 && trimmed[0] == '{' && !strings.Contains(err.Error(), "field") && !strings.Contains(err.Error(), "nesting") {
			t.Fatalf("rejected valid object %q: %v", line, err)
		}
		return
	}
	if !utf8.Valid(line) {
		return // encoding/json keeps bad bytes in raw values; we replace them
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(line, &m) != nil {
		t.Fatalf("accepted %q, which does not decode as an object", line)
	}
	for k, raw := range m {
		if _, mapped := p.key[k]; mapped {
			continue
		}
		want := string(raw)
		if raw[0] == '"' {
			if json.Unmarshal(raw, &want) != nil {
				t.Fatalf("key %q: cannot unquote %s", k, raw)
			}
		} else if want == "null" {
			want = ""
		}
		if got := ev.Fields[k]; got != want {
			t.Fatalf("line %q key %q: got %q, encoding/json gives %q", line, k, got, want)
		}
	}
}

func TestJSONMatchesStdlib(t *testing.T) {
	p, err := NewJSON("")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range jsonSeeds {
		checkJSONAgainstStdlib(t, p, []byte(line))
	}
	g := newLogGen(7)
	for i := 0; i < 2000; i++ {
		checkJSONAgainstStdlib(t, p, g.jsonLine())
	}
}

var jsonSeeds = []string{
	`{"ts":"2015-05-17T10:05:03Z","level":"info","msg":"hello","k":{"a":[1,2,{"b":null}]},"n":-0.5e-3}`,
	`{"a":"\ud83d\ude00\u00e9\n\"","b":"\ud800\ud800","c":"\udc00"}`,
	`{"a":1}x`, `{"a":01}`, `{"a":[1,]}`, `{"a":"` + "\x7f\xc3\xa9" + `"}`, `{"a" : true , "b":false}`,
	"{\"a\":\"\xff\"}", `{}`, ` {} `, `[]`, `"s"`, `nul`, `{"a":nulll}`,
}

func FuzzJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	p, err := NewJSON("ts=@timestamp")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		checkJSONAgainstStdlib(t, p, line)
	})
}

// TestJSONHugeLine checks that a megabyte value is read whole and that a
// truncated huge line gives a short error.
func TestJSONHugeLine(t *testing.T) {
	p := mustParser(t, "json")
	big := strings.Repeat("ab\\n", 1<<18)
	ev, err := parseWith(p, `{"msg":"`+big+`","k":"`+big+`"}`)
	if err != nil || len(ev.Msg) != 3<<18 || len(ev.Fields["k"]) != 3<<18 {
		t.Fatalf("err %v, msg length %d", err, len(ev.Msg))
	}
	_, err = parseWith(p, `{"msg":"`+big)
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("truncated huge line: error %v, want a short error", err)
	}
}

// TestJSONStringStops holds readJSONString's word-at-a-time scan to a
// byte-by-byte one: for strings of 0-40 plain bytes (ASCII and UTF-8
// bytes above 0x80) followed by each kind of stop ('"', '\\', every
// control byte) or the end of the line, the same value, end and error.
func TestJSONStringStops(t *testing.T) {
	plain := "abcXYZ09 ~!#$%&'()*+,-./:;<=>?@[]^_`{|}\x7f\x80\xbf\xc3\xa9\xff"
	for n := range 41 {
		for _, stop := range []string{`"`, `\"x"`, `\u00e9"`, `\q"`, ""} {
			for c := range 0x21 {
				body := make([]byte, n)
				for i := range body {
					body[i] = plain[(i*7+n)%len(plain)]
				}
				tail := stop
				if c < 0x20 {
					tail = string(rune(c)) + stop
				}
				s := `"` + string(body) + tail + `,"k":1}`
				got, next, err := readJSONString(s, 0)
				want, wnext, werr := readJSONStringBytewise(s)
				if got != want || next != wnext || (err == nil) != (werr == nil) {
					t.Fatalf("readJSONString(%q) = %q, %d, %v; byte by byte %q, %d, %v", s, got, next, err, want, wnext, werr)
				}
			}
		}
	}
}

// readJSONStringBytewise is readJSONString as it was, one byte a step.
func readJSONStringBytewise(s string) (string, int, error) {
	k := 1
	for k < len(s) && !jsonStringStop[s[k]] {
		k++
	}
	if k < len(s) {
		switch c := s[k]; {
		case c == '"':
			return s[1:k], k + 1, nil
		case c == '\\':
			return unescapeJSONString(s, 1)
		default:
			return "", 0, fmt.Errorf("control character %#x", c)
		}
	}
	return "", 0, errors.New("no closing quote")
}

// TestJSONKeyTable holds the key table to the mapping it was built from:
// every key of default and renamed mappings finds its field, and keys
// that share a prefix, a length or a first word with one (or are
// prefixes of one) find none.
func TestJSONKeyTable(t *testing.T) {
	var many []string // a field renamed again and again: every name stays a key
	for i := range 100 {
		many = append(many, fmt.Sprintf("msg=m%d", i))
	}
	for _, mapping := range []string{"", "ts=@timestamp,msg=message,latency_ms=duration_milliseconds,host=h,user=usr1234x", strings.Join(many, ",")} {
		j, err := NewJSON(mapping)
		if err != nil {
			t.Fatal(err)
		}
		for k, f := range j.key {
			kf, ok := j.keys.lookup(k)
			if !ok || kf.field != f || kf.key != k || kf.id != fieldIDOf(f) {
				t.Fatalf("mapping %q: key %q: %+v, %v; want field %q", mapping, k, kf, ok, f)
			}
			for _, pad := range []string{"", `":1}`, `":"0123456789"}`} { // read in a line, by a load or not
				line := `{"` + k + pad
				if in, ok := j.keys.lookupIn(line, 2, 2+len(k), k); !ok || in != kf {
					t.Fatalf("mapping %q: key %q in line %q: %+v, %v; want %+v", mapping, k, line, in, ok, kf)
				}
			}
			for _, other := range []string{k + "x", k[:len(k)-1], "x" + k[1:], k[:len(k)-1] + "\x00", strings.ToUpper(k), k + k} {
				if _, in := j.key[other]; in {
					continue
				}
				if kf, ok := j.keys.lookup(other); ok {
					t.Fatalf("mapping %q: key %q found %+v", mapping, other, kf)
				}
				line := `{"` + other + `":"0123456789"}`
				if kf, ok := j.keys.lookupIn(line, 2, 2+len(other), other); ok {
					t.Fatalf("mapping %q: key %q in line %q found %+v", mapping, other, line, kf)
				}
			}
		}
		if _, ok := j.keys.lookup(""); ok {
			t.Fatalf("mapping %q: the empty key found a field", mapping)
		}
	}
}
