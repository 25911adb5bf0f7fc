package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// benchLines is the size of the generated input of each benchmark pass.
const benchLines = 10000

// TestGeneratedAccessLog parses the benchmark input and checks it against
// what the generator counted while writing it.
func TestGeneratedAccessLog(t *testing.T) {
	for _, spec := range []string{"combined", "grok:^%{COMBINEDAPACHELOG}"} {
		n := benchLines
		if strings.HasPrefix(spec, "grok") {
			n /= 10 // grok is slow; a thousand lines make the point
		}
		g := newLogGen(1)
		in := corpus(n, g.accessLine)
		p := mustParser(t, spec)
		levels := map[string]int{}
		var sum int64
		var searches, users int
		n = 0
		sc := bufio.NewScanner(bytes.NewReader(in))
		for sc.Scan() {
			ev := ParseLine(p, nil, sc.Bytes(), testIngest)
			if ev.ParseError != "" || ev.TimeMissing {
				t.Fatalf("%s: %q: %s", spec, sc.Bytes(), ev.ParseError)
			}
			n++
			levels[ev.Level]++
			sum += ev.Bytes
			if strings.HasPrefix(ev.Query, "q=") {
				searches++
			}
			if ev.User != "" {
				users++
			}
		}
		if n != g.lines || sum != g.bytes || searches != g.searches || users != g.users || len(levels) != len(g.levels) {
			t.Errorf("%s: lines %d bytes %d searches %d users %d levels %v; generator wrote %d %d %d %d %v",
				spec, n, sum, searches, users, levels, g.lines, g.bytes, g.searches, g.users, g.levels)
		}
		for l, c := range g.levels {
			if levels[l] != c {
				t.Errorf("%s: level %s: %d, generator wrote %d", spec, l, levels[l], c)
			}
		}
	}
}

// TestGeneratedJSON does the same for the JSON input.
func TestGeneratedJSON(t *testing.T) {
	g := newLogGen(2)
	in := corpus(benchLines, g.jsonLine)
	p := mustParser(t, "json")
	levels := map[string]int{}
	var escaped, traces, n int
	sc := bufio.NewScanner(bytes.NewReader(in))
	for sc.Scan() {
		ev := ParseLine(p, nil, sc.Bytes(), testIngest)
		if ev.ParseError != "" || ev.TimeMissing || ev.Status == 0 || ev.Path == "" {
			t.Fatalf("%q: %+v", sc.Bytes(), ev)
		}
		n++
		levels[ev.Level]++
		if ev.Msg == "user said \"hello\"\n" {
			escaped++
		}
		if len(ev.Fields["trace_id"]) == 16 {
			traces++
		}
	}
	if n != g.lines || escaped != g.escaped || traces != g.traces {
		t.Errorf("lines %d escaped %d traces %d; generator wrote %d %d %d", n, escaped, traces, g.lines, g.escaped, g.traces)
	}
	for l, c := range g.levels {
		if levels[l] != c {
			t.Errorf("level %s: %d, generator wrote %d", l, levels[l], c)
		}
	}
}

// benchParse reports lines/s for parsing input line by line with parse,
// including the line split, so the split sub-benchmark is the ceiling.
func benchParse(b *testing.B, input []byte, parse func(line []byte, ev *event.Event) error) {
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	lines := 0
	ev := new(event.Event)
	cpu0 := cpuTime()
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(input))
		for sc.Scan() {
			*ev = event.Event{IngestTime: testIngest}
			if err := parse(sc.Bytes(), ev); err != nil {
				b.Fatal(err)
			}
			lines++
		}
	}
	// lines/cpu-s divides by the process's CPU time (GC included) rather
	// than wall time: on a machine shared with other work it is the
	// per-core figure, which wall time understates.
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
	if cpu > 0 {
		b.ReportMetric(float64(lines)/cpu.Seconds(), "lines/cpu-s")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines), "ns/line")
}

func splitOnly(line []byte, ev *event.Event) error { return nil }

func BenchmarkAccessLog(b *testing.B) {
	input := corpus(benchLines, newLogGen(1).accessLine)
	b.Run("split", func(b *testing.B) { benchParse(b, input, splitOnly) })
	b.Run("combined", func(b *testing.B) { benchParse(b, input, mustParser(b, "combined").Parse) })
	b.Run("regex", func(b *testing.B) {
		p := mustParser(b, `regex:^(?P<ip>\S+) \S+ (?P<user>\S+) \[(?P<ts>[^\]]+)\] "(?P<method>\S+) (?P<url>\S+) (?P<protocol>[^"]*)" (?P<status>\d+) (?P<bytes>\S+) "(?P<referrer>[^"]*)" "(?P<agent>[^"]*)"`)
		benchParse(b, input, p.Parse)
	})
	// Grok is two to three orders of magnitude slower: a tenth of the input
	// keeps the run short. Anchoring with ^ spares the regexp engine a
	// start at every byte.
	small := corpus(benchLines/10, newLogGen(1).accessLine)
	b.Run("grok", func(b *testing.B) {
		benchParse(b, small, mustParser(b, "grok:%{COMBINEDAPACHELOG}").Parse)
	})
	b.Run("grok-anchored", func(b *testing.B) {
		benchParse(b, small, mustParser(b, "grok:^%{COMBINEDAPACHELOG}").Parse)
	})
}

func BenchmarkJSON(b *testing.B) {
	input := corpus(benchLines, newLogGen(2).jsonLine)
	b.Run("split", func(b *testing.B) { benchParse(b, input, splitOnly) })
	b.Run("json", func(b *testing.B) { benchParse(b, input, mustParser(b, "json").Parse) })
	// The approach the scanner replaced, for comparison: encoding/json into
	// a map of raw values (before any field is converted).
	b.Run("encoding-json-map", func(b *testing.B) {
		benchParse(b, input, func(line []byte, ev *event.Event) error {
			var m map[string]json.RawMessage
			return json.Unmarshal(line, &m)
		})
	})
}

func BenchmarkMultiline(b *testing.B) {
	var in []byte
	for i := range benchLines / 10 {
		in = append(in, "2024-05-17 10:05:03 ERROR request failed\n"...)
		for range 9 {
			in = append(in, "\tat com.example.Cart.add(Cart.java:42)\n"...)
		}
		_ = i
	}
	b.Run("split", func(b *testing.B) { benchParse(b, in, splitOnly) })
	b.Run("group", func(b *testing.B) {
		m, err := NewMultiline(javaStart)
		if err != nil {
			b.Fatal(err)
		}
		benchParse(b, in, func(line []byte, ev *event.Event) error {
			m.Add(line, testIngest)
			return nil
		})
	})
}

// cpuTime is the user and system CPU time used by the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
