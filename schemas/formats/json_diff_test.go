package formats

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// diffSpecs are the JSON parsers the differential tests run: the default
// keys, renamed ones (keys of eight bytes and more, a key that is a
// prefix of another, an event field's name freed for Fields) and many.
var diffSpecs = []string{
	"json",
	"json:ts=@timestamp,msg=message,level=severity,latency_ms=duration_milliseconds,host=h,user=usr1234x",
	"json:ts=time,msg=m,component=comp,instance=instance_name_long",
}

// checkJSONDiff parses line with p and with the frozen parser
// (refParseText) and fails unless both give the same event and error.
func checkJSONDiff(t testing.TB, p *JSON, line []byte) {
	s := lineText(line)
	got := event.Event{IngestTime: testIngest}
	want := got
	gerr := p.parseText(s, &got)
	werr := refParseText(p, s, &want)
	if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
		t.Fatalf("%s: line %q: error %v, the frozen parser's %v", p.Spec(), clip(string(line)), gerr, werr)
	}
	if gerr != nil {
		return // the caller drops a half-filled event (ParseLine)
	}
	if !got.Time.Equal(want.Time) || got.Time.Location() != want.Time.Location() {
		t.Fatalf("%s: line %q: time %v, the frozen parser's %v", p.Spec(), clip(string(line)), got.Time, want.Time)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: line %q:\n got    %+v\n frozen %+v", p.Spec(), clip(string(line)), got, want)
	}
}

// diffLine is a generated line for the differential test: a JSON object
// of the keys parsers read and others, with values of every kind, often
// spelled oddly (escapes, spaces, numbers as strings, bad times, nested
// values, duplicate keys), then, for most lines, damaged (cut, bytes
// changed, inserted or removed, junk).
func diffLine(r *rand.Rand, buf []byte) []byte {
	keys := []string{"ts", "host", "instance", "level", "component", "user", "ip", "method", "url", "path",
		"query", "status", "bytes", "latency_ms", "msg", "@timestamp", "message", "severity", "time", "m", "comp",
		"instance_name_long", "duration_milliseconds", "h", "usr1234x", "usr1234", "usr1234xy", "trace_id",
		"retry", "", "k\\u0065y", "t\\u0073", "sta\\\"tus", "ms", "msgs", "instanc", "instancee", "latency_m",
		"\u00e9t\u00e9", "latency_ms\\n"}
	b := buf[:0]
	sp := func() {
		if r.IntN(8) == 0 {
			b = append(b, " \t\r\n"[:1+r.IntN(4)]...)
		}
	}
	sp()
	b = append(b, '{')
	n := r.IntN(16)
	for f := range n {
		if f > 0 {
			sp()
			b = append(b, ',')
		}
		sp()
		k := keys[r.IntN(len(keys))]
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"')
		sp()
		b = append(b, ':')
		sp()
		if r.IntN(12) == 0 {
			b = diffValue(r, b, r.IntN(24), 0)
		} else {
			b = diffValue(r, b, diffKind(r, k), 0)
		}
	}
	sp()
	b = append(b, '}')
	sp()
	if r.IntN(2) == 0 {
		return b // whole
	}
	// Damage it.
	switch r.IntN(8) {
	case 0: // cut
		return b[:r.IntN(len(b)+1)]
	case 1, 2: // bytes changed
		for range 1 + r.IntN(3) {
			b[r.IntN(len(b))] = diffByte(r)
		}
	case 3: // bytes inserted
		for range 1 + r.IntN(3) {
			at := r.IntN(len(b) + 1)
			b = append(b[:at], append([]byte{diffByte(r)}, b[at:]...)...)
		}
	case 4: // a byte removed
		at := r.IntN(len(b))
		b = append(b[:at], b[at+1:]...)
	case 5: // binary junk
		b = b[:0]
		for range r.IntN(64) {
			b = append(b, byte(r.IntN(256)))
		}
	case 6: // trailing text
		b = append(b, " x"[r.IntN(2):]...)
	case 7: // a line of another format
		b = append(b[:0], `10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5`...)
	}
	return b
}

// diffByte is a byte that matters to a JSON scanner more often than not.
func diffByte(r *rand.Rand) byte {
	const special = "\"\\{}[]:, \t\n\r0123456789-+.eEtrufalsn/\x00\x01\x1f\x7f\x80\xc3\xa9\xff"
	if r.IntN(4) == 0 {
		return byte(r.IntN(256))
	}
	return special[r.IntN(len(special))]
}

// diffKind is the kind of value diffValue writes that fits key k most
// often: times under the time keys, numbers under status, and so on.
func diffKind(r *rand.Rand, k string) int {
	switch k {
	case "ts", "@timestamp", "time", "t\\u0073":
		return []int{4, 4, 4, 5, 6}[r.IntN(5)]
	case "status", "bytes", "latency_ms", "duration_milliseconds", "sta\\\"tus":
		return []int{6, 6, 8}[r.IntN(3)]
	case "level", "severity":
		return 9
	case "url", "path", "query":
		return 10
	}
	return []int{3, 11, 14, 16, 16, 16, 12, 0, 1}[r.IntN(9)]
}

// diffValue appends a value of the kind (0-23: see the cases).
func diffValue(r *rand.Rand, b []byte, kind, depth int) []byte {
	str := func(v string) []byte { return strconv.AppendQuote(b, v) }
	switch kind {
	case 0:
		return append(b, "null"...)
	case 1:
		return append(b, "true"...)
	case 2:
		return append(b, "false"...)
	case 3:
		return append(b, `""`...)
	case 4: // times in several spellings
		t := time.Date(2015+r.IntN(20), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e9), time.UTC)
		layouts := []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.000Z07:00", "2006-01-02 15:04:05",
			"02/Jan/2006:15:04:05 -0700", time.RFC1123, "2006-01-02T15:04:05.000+0100", "Jan _2 15:04:05"}
		return append(b, strconv.Quote(t.Format(layouts[r.IntN(len(layouts))]))...)
	case 5:
		return append(b, strconv.Quote([]string{"yesterday", "2015-13-45T99:99:99Z", "2015-05-17T10:05:03", "0", "-1", "1e3", "2015-05-17T10:05:03.123456789123Z"}[r.IntN(7)])...)
	case 6, 7: // numbers
		nums := []string{"0", "-0", "1", "404", "200", "-5", "01", "1.", ".5", "1.5", "-1.5e3", "1e400", "123456789012345678901", "9223372036854775807",
			"9223372036854775808", "2147483647", "2147483648", "-2147483649", "1431857103123", "1431857103", "12.345", "0.1", "1E+2", "1e-2", "-", "--1", "+1", "0x10", "1_000", "NaN", "Infinity"}
		return append(b, nums[r.IntN(len(nums))]...)
	case 8: // numbers as strings
		nums := []string{"404", "-", "1.5", "12.5", "OK", " 200", "200 ", "", "1e3", "0.000001", "123456789.123456", "1234567890123456", "inf", "-0.0", "+3"}
		return append(b, strconv.Quote(nums[r.IntN(len(nums))])...)
	case 9: // levels
		lv := []string{"info", "WARN", "warning", "E", "err", " error ", "Debug", "crit", "severe", "i", "TRACE", "ünïcode", "INFO\n"}
		return append(b, strconv.Quote(lv[r.IntN(len(lv))])...)
	case 10: // urls
		us := []string{"/search?q=shoes&page=1", "/home", "?x=1", "/a?b?c", "", "/%7Euser?q=%E2%82%AC"}
		return append(b, strconv.Quote(us[r.IntN(len(us))])...)
	case 11: // escapes
		es := []string{`"tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00 \ud800x"`, `"\u0000"`, `"\ud800\ud800"`, `"\udc00"`, `"\u12"`, `"\x41"`,
			`"a\`, `"\uD83D\uDE00"`, `"\u002F"`, `"é"`, `"\b\f\n\r\t"`, `"a\u0022b"`}
		return append(b, es[r.IntN(len(es))]...)
	case 12, 13: // nested
		if depth > 3 {
			return append(b, "[]"...)
		}
		if r.IntN(2) == 0 {
			b = append(b, '[')
			for i := range r.IntN(4) {
				if i > 0 {
					b = append(b, ',')
				}
				b = diffValue(r, b, r.IntN(24), depth+1)
			}
			return append(b, ']')
		}
		b = append(b, '{')
		for i := range r.IntN(4) {
			if i > 0 {
				b = append(b, ", "[:1+r.IntN(2)]...)
			}
			b = append(b, `"k":`...)
			b = diffValue(r, b, r.IntN(24), depth+1)
		}
		return append(b, '}')
	case 14: // long strings, plain and with escapes
		return str(strings.Repeat("ab", r.IntN(200)) + []string{"", "\n", "\"", "é"}[r.IntN(4)])
	case 15: // control characters and odd bytes in strings
		return append(b, "\"a"+string(rune(r.IntN(0x20)))+"b\xff\xc3\""...)
	}
	// plain words of every length around the word size
	return str(strings.Repeat("x", r.IntN(20)) + fmt.Sprint(r.IntN(1000)))
}

// TestJSONMatchesFrozen holds the parser to the frozen one over generated
// lines, whole and damaged: the same event and error for each.
// LOGLAMBDA_JSON_DIFF_LINES sets the count (default 20,000 per spec;
// it was run once with 2,000,000).
func TestJSONMatchesFrozen(t *testing.T) {
	n := 20_000
	if v := os.Getenv("LOGLAMBDA_JSON_DIFF_LINES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	for i, spec := range diffSpecs {
		p := mustParser(t, spec).(*JSON)
		r := rand.New(rand.NewPCG(uint64(i), 0xd1ff))
		var buf []byte
		for range n {
			buf = diffLine(r, buf)
			checkJSONDiff(t, p, buf)
		}
		g := newLogGen(uint64(i))
		for range n / 10 {
			checkJSONDiff(t, p, g.jsonLine())
		}
		for _, s := range jsonSeeds {
			checkJSONDiff(t, p, []byte(s))
		}
	}
}

// FuzzJSONFrozen is TestJSONMatchesFrozen on the fuzzer's lines.
func FuzzJSONFrozen(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		f.Add(diffLine(r, nil))
	}
	ps := make([]*JSON, len(diffSpecs))
	for i, spec := range diffSpecs {
		ps[i] = mustParser(f, spec).(*JSON)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, p := range ps {
			checkJSONDiff(t, p, line)
		}
	})
}
