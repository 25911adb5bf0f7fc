package gen

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/formats"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func mustNew(t testing.TB, opts ...Opt) *Generator {
	t.Helper()
	g, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestDeterministic(t *testing.T) {
	a := mustNew(t, Seed(7), Start(t0), Count(5000))
	b := mustNew(t, Seed(7), Start(t0), Count(5000))
	c := mustNew(t, Seed(8), Start(t0), Count(5000))
	same, differ := 0, 0
	for !a.Done() {
		ra, rb, rc := a.Next(), b.Next(), c.Next()
		if !bytes.Equal(ra.Line, rb.Line) || !bytes.Equal(ra.Key, rb.Key) || !ra.Time.Equal(rb.Time) {
			t.Fatalf("record %d differs for the same seed:\n%s\n%s", a.Emitted(), ra.Line, rb.Line)
		}
		if bytes.Equal(ra.Line, rc.Line) {
			same++
		} else {
			differ++
		}
	}
	if a.Emitted() != 5000 || !b.Done() {
		t.Fatalf("emitted %d, want 5000", a.Emitted())
	}
	if r := a.Next(); r.Line != nil {
		t.Fatalf("Next after Done = %s, want zero record", r.Line)
	}
	if differ < 4900 {
		t.Fatalf("seeds 7 and 8 gave %d equal lines of 5000", same)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		opts []Opt
		want string
	}{
		{"zero rate", []Opt{Rate(0)}, "rate 0"},
		{"negative count", []Opt{Count(-1)}, "count -1"},
		{"ooo above 1", []Opt{OutOfOrder(1.5)}, "out-of-order share 1.5"},
		{"late negative", []Opt{Late(-0.1)}, "late share -0.1"},
		{"sum above 1", []Opt{OutOfOrder(0.6), Late(0.6)}, "exceed 1"},
		{"zero start", []Opt{Start(time.Time{})}, "start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// line is the JSON line decoded independently of the formats package.
type line struct {
	TS        string  `json:"ts"`
	Host      string  `json:"host"`
	Instance  string  `json:"instance"`
	Level     string  `json:"level"`
	User      string  `json:"user"`
	IP        string  `json:"ip"`
	Method    string  `json:"method"`
	URL       string  `json:"url"`
	Status    int32   `json:"status"`
	Bytes     int64   `json:"bytes"`
	LatencyMS float64 `json:"latency_ms"`
	Msg       string  `json:"msg"`
	TraceID   string  `json:"trace_id"`
}

func TestLinesParse(t *testing.T) {
	p, err := formats.New("json")
	if err != nil {
		t.Fatal(err)
	}
	hot, err := formats.NewHotTerm("param:q,Input")
	if err != nil {
		t.Fatal(err)
	}
	g := mustNew(t, Seed(3), Start(t0), Count(20000))
	levels := map[string]int{}
	hosts := map[string]int{}
	status := map[int32]int{}
	var anon, searches, extra int
	for !g.Done() {
		r := g.Next()
		var l line
		if err := json.Unmarshal(r.Line, &l); err != nil {
			t.Fatalf("line %s: %v", r.Line, err)
		}
		ev := formats.ParseLine(p, hot, r.Line, t0)
		if ev.ParseError != "" || ev.TimeMissing {
			t.Fatalf("line %s: parse error %q, time missing %v", r.Line, ev.ParseError, ev.TimeMissing)
		}
		if !ev.Time.Equal(r.Time) {
			t.Fatalf("line %s: time %v, record time %v", r.Line, ev.Time, r.Time)
		}
		path, query, _ := strings.Cut(l.URL, "?")
		if ev.Host != l.Host || ev.Instance != l.Instance || ev.Level != l.Level || ev.User != l.User ||
			ev.IP != l.IP || ev.Method != l.Method || ev.Path != path || ev.Query != query ||
			ev.Status != l.Status || ev.Bytes != l.Bytes || ev.LatencyMS != l.LatencyMS || ev.Msg != l.Msg {
			t.Fatalf("line %s parsed as %+v", r.Line, ev)
		}
		if l.TraceID != "" {
			extra++
			if ev.Fields["trace_id"] != l.TraceID {
				t.Fatalf("line %s: trace_id not kept in Fields: %v", r.Line, ev.Fields)
			}
		}
		switch {
		case l.Method != "": // a page view: keyed by its visitor
			if string(r.Key) != ev.UVID() {
				t.Fatalf("line %s: key %q, want the visitor %q", r.Line, r.Key, ev.UVID())
			}
			if l.User == "-" {
				anon++
			}
			status[l.Status/100]++
		default:
			if string(r.Key) != l.Instance {
				t.Fatalf("line %s: key %q, want the instance", r.Line, r.Key)
			}
		}
		if path == "/search" {
			searches++
			if ev.HotTerm == "" {
				t.Fatalf("search line %s has no hot term", r.Line)
			}
		}
		levels[l.Level]++
		hosts[l.Host]++
	}
	for _, lv := range []string{"INFO", "WARN", "ERROR"} {
		if levels[lv] == 0 {
			t.Errorf("no %s lines: %v", lv, levels)
		}
	}
	for _, h := range []string{"web-1", "web-2", "web-3", "web-4", "db-1", "db-2", "db-3"} {
		if hosts[h] == 0 {
			t.Errorf("no lines from %s: %v", h, hosts)
		}
	}
	for _, cls := range []int32{2, 3, 4, 5} {
		if status[cls] == 0 {
			t.Errorf("no %dxx statuses: %v", cls, status)
		}
	}
	if status[2] < 4*(status[3]+status[4]+status[5]) {
		t.Errorf("2xx should dominate: %v", status)
	}
	if anon == 0 || searches < 20000/5 || extra == 0 {
		t.Errorf("anonymous %d, searches %d, lines with trace_id %d: want all > 0 and searches >= 4000", anon, searches, extra)
	}
}

func TestDisorderFractions(t *testing.T) {
	tests := []struct {
		name      string
		ooo, late float64
	}{
		{"none", 0, 0},
		{"defaults-like", 0.02, 0.005},
		{"heavy", 0.10, 0.05},
	}
	const n = 100000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustNew(t, Seed(11), Start(t0), Rate(200), Count(n), OutOfOrder(tt.ooo), Late(tt.late))
			var max time.Time
			var ooo, late int
			for !g.Done() {
				r := g.Next()
				switch d := max.Sub(r.Time); {
				case d > 5*time.Minute:
					late++
					if d > 31*time.Minute {
						t.Fatalf("event %v is %v before the newest: too late", r.Time, d)
					}
				case d > time.Second:
					ooo++
					if d > 61*time.Second {
						t.Fatalf("out-of-order event %v is %v before the newest: beyond a minute", r.Time, d)
					}
				case d > 0 && tt.ooo+tt.late == 0:
					t.Fatalf("event %v before the newest %v with no disorder asked", r.Time, max)
				}
				if r.Time.After(max) {
					max = r.Time
				}
			}
			check := func(what string, got int, frac float64) {
				want := frac * n
				if math.Abs(float64(got)-want) > 0.15*want+20 {
					t.Errorf("%s: %d events, want about %.0f", what, got, want)
				}
			}
			check("out of order", ooo, tt.ooo)
			check("late", late, tt.late)
			// The in-order clock spaces events by 1/rate.
			if got, want := max.Sub(t0), time.Duration(n/200)*time.Second; got < want-time.Second || got > want {
				t.Errorf("newest event %v after start, want about %v", got, want)
			}
		})
	}
}

func TestZipfSkew(t *testing.T) {
	hot, _ := formats.NewHotTerm("param:q,Input")
	p, _ := formats.New("json")
	g := mustNew(t, Seed(5), Start(t0), Count(100000))
	terms := map[string]int{}
	users := map[string]int{}
	for !g.Done() {
		r := g.Next()
		ev := formats.ParseLine(p, hot, r.Line, t0)
		if ev.HotTerm != "" {
			terms[ev.HotTerm]++
		}
		if ev.User != "" && ev.User != "-" {
			users[ev.User]++
		}
	}
	for what, m := range map[string]map[string]int{"terms": terms, "users": users} {
		counts := make([]int, 0, len(m))
		for _, c := range m {
			counts = append(counts, c)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(counts)))
		top, median := counts[0], counts[len(counts)/2]
		t.Logf("%s: %d distinct, top %d, median %d", what, len(counts), top, median)
		if len(counts) < 200 || top < 20*median {
			t.Errorf("%s: %d distinct, top %d, median %d: want >= 200 distinct and top >= 20 x median", what, len(counts), top, median)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	g := mustNew(b, Seed(1), Start(t0))
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		n += int64(len(g.Next().Line))
	}
	b.SetBytes(n / int64(b.N))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
