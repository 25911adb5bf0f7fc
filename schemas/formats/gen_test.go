package formats

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// logGen writes realistic, deterministic access-log and JSON lines for
// tests and benchmarks, and counts what it wrote so that tests can check
// parsers against numbers known independently of them.
type logGen struct {
	r   *rand.Rand
	t   time.Time
	buf []byte

	// What the lines hold, counted as they are written.
	lines    int
	levels   map[string]int // by level, as the parser should derive it
	bytes    int64          // sum of the bytes field
	searches int            // access lines with a search query (q=)
	users    int            // access lines with a remote user
	escaped  int            // JSON lines whose msg has escapes
	traces   int            // JSON lines with a trace_id
}

func newLogGen(seed uint64) *logGen {
	return &logGen{
		r:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		t:      time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC),
		levels: map[string]int{},
	}
}

var (
	genPaths   = []string{"/", "/index.html", "/static/app.js", "/static/style.css", "/api/v1/cart", "/api/v1/orders", "/product/12345", "/images/logo.png"}
	genTerms   = []string{"shoes", "red+dress", "laptop", "iphone+15", "coffee", "t-shirt", "garden+chair"}
	genAgents  = []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", "curl/8.5.0", "Googlebot/2.1 (+http://www.google.com/bot.html)"}
	genStatus  = []int{200, 200, 200, 200, 200, 200, 304, 302, 404, 500, 503}
	genMethods = []string{"GET", "GET", "GET", "GET", "POST", "HEAD"}
	genUsers   = []string{"alice", "bob", "carol"}
	genLevels  = []string{"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"}
	genComps   = []string{"api", "cart", "auth", "search"}
)

func (g *logGen) pick(s []string) string { return s[g.r.IntN(len(s))] }

// accessLine returns one combined access-log line (about 200-300 bytes).
func (g *logGen) accessLine() []byte {
	g.lines++
	g.t = g.t.Add(time.Duration(g.r.IntN(200)) * time.Millisecond)
	b := g.buf[:0]
	b = fmt.Appendf(b, "%d.%d.%d.%d - ", 10+g.r.IntN(200), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	if g.r.IntN(10) == 0 {
		b = append(b, g.pick(genUsers)...)
		g.users++
	} else {
		b = append(b, '-')
	}
	b = append(b, " ["...)
	b = g.t.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = append(b, g.pick(genMethods)...)
	b = append(b, ' ')
	if g.r.IntN(4) == 0 {
		b = append(b, "/search?q="...)
		b = append(b, g.pick(genTerms)...)
		b = append(b, "&page=1"...)
		g.searches++
	} else {
		b = append(b, g.pick(genPaths)...)
	}
	b = append(b, " HTTP/1.1\" "...)
	status := genStatus[g.r.IntN(len(genStatus))]
	g.levels[statusLevel(int32(status))]++
	b = strconv.AppendInt(b, int64(status), 10)
	if status == 304 {
		b = append(b, " -"...)
	} else {
		n := int64(g.r.IntN(50000))
		g.bytes += n
		b = append(b, ' ')
		b = strconv.AppendInt(b, n, 10)
	}
	if g.r.IntN(3) == 0 {
		b = append(b, ` "-" "`...)
	} else {
		b = append(b, ` "https://shop.example.com`...)
		b = append(b, g.pick(genPaths)...)
		b = append(b, `" "`...)
	}
	b = append(b, g.pick(genAgents)...)
	b = append(b, '"')
	g.buf = b
	return b
}

// jsonLine returns one JSON log line with 10 keys (about 200-250 bytes).
func (g *logGen) jsonLine() []byte {
	g.lines++
	g.t = g.t.Add(time.Duration(g.r.IntN(200)) * time.Millisecond)
	level := g.pick(genLevels)
	g.levels[level]++
	status := genStatus[g.r.IntN(len(genStatus))]
	b := g.buf[:0]
	b = append(b, `{"ts":"`...)
	b = g.t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","level":"`...)
	b = append(b, level...)
	b = fmt.Appendf(b, `","host":"web-%02d","component":"%s","msg":"`, g.r.IntN(20), g.pick(genComps))
	if g.r.IntN(20) == 0 {
		b = append(b, `user said \"hello\"\n`...)
		g.escaped++
	} else {
		b = append(b, "request handled for session "...)
		b = strconv.AppendInt(b, int64(g.r.IntN(1e6)), 10)
	}
	b = append(b, `","method":"`...)
	b = append(b, g.pick(genMethods)...)
	b = append(b, `","url":"`...)
	b = append(b, g.pick(genPaths)...)
	b = fmt.Appendf(b, `","status":%d,"latency_ms":%d.%03d`, status, g.r.IntN(900), g.r.IntN(1000))
	if g.r.IntN(2) == 0 {
		b = fmt.Appendf(b, `,"trace_id":"%016x"`, g.r.Uint64())
		g.traces++
	} else {
		b = append(b, `,"retry":false`...)
	}
	b = append(b, '}')
	g.buf = b
	return b
}

// corpus returns n lines from next, each ending in '\n'.
func corpus(n int, next func() []byte) []byte {
	var out []byte
	for range n {
		out = append(out, next()...)
		out = append(out, '\n')
	}
	return out
}
