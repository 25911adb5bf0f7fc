package gen

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Record is one generated log line.
type Record struct {
	// Line is one JSON object without a trailing newline. It is freshly
	// allocated for every Record, so callers may keep it (a Kafka producer
	// holds it until the send completes).
	Line []byte
	// Key is the partitioning key: the user, or the IP for anonymous users
	// (the identity unique visitors count), or the instance for application
	// logs, so that one visitor's events stay in one partition. It aliases
	// Line: do not modify it.
	Key []byte
	// Time is the event time written in the line's "ts".
	Time time.Time
	// Group is the behaviour group the event was drawn from (groups.go):
	// the known answer clustering is scored against.
	Group string
}

// Traffic shape. The shares are per event; see Next.
const (
	nUsers    = 20000 // registered users, Zipf-ranked
	nAnonIPs  = 50000 // addresses of anonymous visitors, Zipf-ranked
	nProducts = 9000  // product ids 1000..9999, Zipf-ranked
	nWeb      = 4     // web-1..web-4
	nDB       = 3     // db-1..db-3

	anonShare     = 0.25 // share of page views without a user
	roamShare     = 0.08 // share of a user's views from their second IP
	appShare      = 0.12 // share of application (DB) log lines
	burstShare    = 0.30 // share of events that are burst errors during a burst
	traceShare    = 0.20 // share of web lines with an extra "trace_id" key
	pidShare      = 0.30 // share of DB lines with an extra "pid" key
	inputShare    = 0.10 // share of searches using ?Input= instead of ?q=
	pagedShare    = 0.25 // share of searches past the first result page
	burstGapMean  = 30 * time.Minute
	burstMinLen   = 2 * time.Minute
	burstMaxExtra = 4 * time.Minute
)

// firstNames make user names readable: user k is firstNames[k%len] + k.
var firstNames = []string{
	"anna", "ben", "chen", "dana", "emil", "fatima", "george", "hana", "ivan",
	"julia", "kofi", "lena", "marco", "nina", "omar", "paula", "quinn", "rosa",
	"sam", "tara", "umar", "vera", "wei", "xena", "yusuf", "zoe",
}

// Generator produces Records. It is not safe for concurrent use.
type Generator struct {
	cfg      cfg
	interval float64 // nanoseconds between events
	r        *rand.Rand
	salt     uint64 // mixes the seed into IP addresses

	terms    []string
	termZipf *rand.Zipf
	userZipf *rand.Zipf
	anonZipf *rand.Zipf
	prodZipf *rand.Zipf

	dbInfo, dbWarn, dbError, burstErrors, web5xx []template

	n          int64     // records returned so far
	burstInst  int       // instance in a burst (0-based)
	burstUntil time.Time // end of the current burst
	nextBurst  time.Time // start of the next burst

	buf   []byte // scratch line, copied into each Record
	group string // behaviour group of the record being written
}

// New returns a generator; see the options for the defaults.
func New(opts ...Opt) (*Generator, error) {
	c := defaultCfg()
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	seed := uint64(c.seed)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &Generator{
		cfg:         c,
		interval:    1e9 / c.rate,
		r:           r,
		salt:        mix(seed + 0x5bd1e995),
		terms:       buildTerms(),
		dbInfo:      newTemplates(dbInfo),
		dbWarn:      newTemplates(dbWarn),
		dbError:     newTemplates(dbError),
		burstErrors: newTemplates(burstErrors),
		web5xx:      newTemplates(web5xx),
		buf:         make([]byte, 0, 512),
	}
	g.termZipf = rand.NewZipf(r, 1.1, 2, uint64(len(g.terms)-1))
	g.userZipf = rand.NewZipf(r, 1.15, 20, nUsers-1)
	g.anonZipf = rand.NewZipf(r, 1.1, 50, nAnonIPs-1)
	g.prodZipf = rand.NewZipf(r, 1.2, 5, nProducts-1)
	g.nextBurst = c.start.Add(g.expDuration(burstGapMean))
	return g, nil
}

// Done reports whether Count records have been returned (never, when Count
// is 0).
func (g *Generator) Done() bool { return g.cfg.count > 0 && g.n >= g.cfg.count }

// Emitted is the number of records returned so far.
func (g *Generator) Emitted() int64 { return g.n }

// NextTime is the in-order event time of the next record (before any
// out-of-order or late shift), so a live producer can wait until it is due.
func (g *Generator) NextTime() time.Time { return g.baseTime(g.n) }

// baseTime is the in-order time of record i: evenly spaced by 1/rate with a
// jitter below one spacing, so in-order times never go backwards.
func (g *Generator) baseTime(i int64) time.Time {
	return g.cfg.start.Add(time.Duration(float64(i) * g.interval))
}

// Next returns the next record, or a zero Record once Done.
func (g *Generator) Next() Record {
	if g.Done() {
		return Record{}
	}
	t := g.baseTime(g.n).Add(time.Duration(g.r.Float64() * g.interval))
	g.n++
	g.group = GroupApp

	// Bursts follow the in-order clock, so they last minutes of event time
	// whatever the rate.
	if !g.cfg.burstAt.IsZero() && !t.Before(g.cfg.burstAt) {
		g.nextBurst, g.cfg.burstAt = t, time.Time{}
	}
	if !t.Before(g.nextBurst) {
		g.burstInst = g.r.IntN(nDB)
		g.burstUntil = t.Add(burstMinLen + time.Duration(g.r.Float64()*float64(burstMaxExtra)))
		g.nextBurst = g.burstUntil.Add(g.expDuration(burstGapMean))
	}
	inBurst := t.Before(g.burstUntil)

	ts := t
	switch u := g.r.Float64(); {
	case u < g.cfg.late:
		ts = t.Add(-5*time.Minute - time.Duration(g.r.Float64()*float64(25*time.Minute)))
	case u < g.cfg.late+g.cfg.outOfOrder:
		ts = t.Add(-2*time.Second - time.Duration(g.r.Float64()*float64(58*time.Second)))
	}

	b := g.buf[:0]
	b = append(b, `{"ts":"`...)
	b = ts.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	var k0, k1 int
	switch p := g.r.Float64(); {
	case inBurst && p < burstShare:
		b, k0, k1 = g.appendDB(b, g.burstInst, "ERROR", g.burstErrors)
	case p < appShare+burstShare*b2f(inBurst):
		b, k0, k1 = g.appendApp(b)
	case p < appShare+serviceShare+burstShare*b2f(inBurst):
		b, k0, k1 = g.appendService(b, t) // service.go
	default:
		b, k0, k1 = g.appendTraffic(b, t, inBurst)
	}
	b = append(b, '}')
	g.buf = b
	line := make([]byte, len(b))
	copy(line, b)
	return Record{Line: line, Key: line[k0:k1], Time: ts, Group: g.group}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// appendApp writes a DB log line at a random level.
func (g *Generator) appendApp(b []byte) ([]byte, int, int) {
	inst := g.r.IntN(nDB)
	switch u := g.r.Float64(); {
	case u < 0.03:
		return g.appendDB(b, inst, "ERROR", g.dbError)
	case u < 0.15:
		return g.appendDB(b, inst, "WARN", g.dbWarn)
	default:
		return g.appendDB(b, inst, "INFO", g.dbInfo)
	}
}

// appendDB writes the fields of a DB log line; the key is the instance.
func (g *Generator) appendDB(b []byte, inst int, level string, msgs []template) ([]byte, int, int) {
	b = append(b, `,"host":"db-`...)
	b = strconv.AppendInt(b, int64(inst+1), 10)
	b = append(b, `","instance":"`...)
	k0 := len(b)
	b = append(b, "db-"...)
	b = strconv.AppendInt(b, int64(inst+1), 10)
	k1 := len(b)
	b = append(b, `","level":"`...)
	b = append(b, level...)
	b = append(b, `","component":"postgres","msg":"`...)
	b = msgs[g.r.IntN(len(msgs))].appendFill(b, g.r)
	b = append(b, '"')
	if g.r.Float64() < pidShare {
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(1000+g.r.IntN(60000)), 10)
	}
	return b, k0, k1
}

// page kinds of web requests.
const (
	pageSearch = iota
	pageProduct
	pageHome
	pageCart
	pageCheckout
	pageLogin
	pageStatic
	pageAPI
)

// appendWebHost writes the host and instance fields of a random web
// server.
func (g *Generator) appendWebHost(b []byte) []byte {
	host := int64(1 + g.r.IntN(nWeb))
	b = append(b, `,"host":"web-`...)
	b = strconv.AppendInt(b, host, 10)
	b = append(b, `","instance":"web-`...)
	return strconv.AppendInt(b, host, 10)
}

// appendWeb writes an access log line of a page view.
func (g *Generator) appendWeb(b []byte, inBurst bool) ([]byte, int, int) {
	r := g.r
	b = g.appendWebHost(b)

	// The visitor: the key is the user, or the IP for anonymous visitors.
	var k0, k1 int
	b = append(b, `","user":"`...)
	if r.Float64() < anonShare {
		b = append(b, `-","ip":"`...)
		k0 = len(b)
		b = g.appendIP(b, 1<<32+g.anonZipf.Uint64(), 0)
		k1 = len(b)
	} else {
		u := g.userZipf.Uint64()
		k0 = len(b)
		b = append(b, firstNames[u%uint64(len(firstNames))]...)
		b = strconv.AppendUint(b, u, 10)
		k1 = len(b)
		b = append(b, `","ip":"`...)
		var alt uint64
		if r.Float64() < roamShare {
			alt = 1
		}
		b = g.appendIP(b, u, alt)
	}

	// The page.
	var kind int
	switch p := r.Float64(); {
	case p < 0.35:
		kind = pageSearch
	case p < 0.55:
		kind = pageProduct
	case p < 0.65:
		kind = pageHome
	case p < 0.69:
		kind = pageCart
	case p < 0.71:
		kind = pageCheckout
	case p < 0.72:
		kind = pageLogin
	case p < 0.95:
		kind = pageStatic
	default:
		kind = pageAPI
	}
	method := "GET"
	if kind == pageCheckout || kind == pageLogin {
		method = "POST"
	}
	b = append(b, `","method":"`...)
	b = append(b, method...)
	b = append(b, `","url":"`...)
	var bytesMu, latMu float64 // log-normal medians
	staticSize := int64(0)
	switch kind {
	case pageSearch:
		if r.Float64() < inputShare {
			b = append(b, "/search?Input="...)
		} else {
			b = append(b, "/search?q="...)
		}
		for _, c := range []byte(g.terms[g.termZipf.Uint64()]) {
			if c == ' ' {
				c = '+'
			}
			b = append(b, c)
		}
		if r.Float64() < pagedShare {
			b = append(b, "&page="...)
			b = strconv.AppendInt(b, int64(2+r.IntN(4)), 10)
		}
		bytesMu, latMu = 30000, 80
	case pageProduct:
		b = append(b, "/product/"...)
		b = strconv.AppendUint(b, 1000+g.prodZipf.Uint64(), 10)
		bytesMu, latMu = 45000, 40
	case pageHome:
		b = append(b, '/')
		bytesMu, latMu = 60000, 30
	case pageCart:
		b = append(b, "/cart"...)
		bytesMu, latMu = 12000, 50
	case pageCheckout:
		b = append(b, "/checkout"...)
		bytesMu, latMu = 2000, 250
	case pageLogin:
		b = append(b, "/login"...)
		bytesMu, latMu = 800, 120
	case pageStatic:
		i := r.IntN(len(staticPaths))
		b = append(b, staticPaths[i]...)
		staticSize = int64(4000 + i*37000)
		latMu = 3
	case pageAPI:
		b = append(b, "/api/v1/recommendations?limit="...)
		b = strconv.AppendInt(b, int64(5+5*r.IntN(4)), 10)
		bytesMu, latMu = 3000, 60
	}

	// The outcome: 5xx mostly during bursts, 4xx and 3xx by page.
	status := 200
	switch u := r.Float64(); {
	case u < 0.003 || (inBurst && u < 0.12):
		status = 500 + 3*r.IntN(2) // 500 or 503
	case kind == pageStatic && u < 0.35:
		status = 304
	case kind == pageProduct && u < 0.04:
		status = 404
	case kind == pageLogin && u < 0.12:
		status = 401
	case u < 0.015:
		status = 404
	case u < 0.025:
		status = 301
	}
	latency := latMu * math.Exp(0.8*r.NormFloat64())
	if inBurst {
		latency *= 3
	}
	var size int64
	switch {
	case status == 304 || status == 301:
		size = 0
	case status >= 400:
		size = 150 + int64(r.IntN(400))
	case staticSize > 0:
		size = staticSize
	default:
		size = int64(bytesMu * math.Exp(0.5*r.NormFloat64()))
	}
	b = appendOutcome(b, status, size, latency)
	// The level follows the outcome, so it is written after it.
	switch {
	case status >= 500:
		b = append(b, `,"level":"ERROR","msg":"`...)
		b = g.web5xx[r.IntN(len(g.web5xx))].appendFill(b, r)
	case status == 404:
		b = append(b, `,"level":"WARN","msg":"not found`...)
	case status == 401:
		b = append(b, `,"level":"WARN","msg":"unauthorized`...)
	default:
		b = append(b, `,"level":"INFO","msg":"request handled`...)
	}
	b = append(b, '"')
	if r.Float64() < traceShare {
		b = append(b, `,"trace_id":"`...)
		b = strconv.AppendUint(b, r.Uint64()|1<<60, 16)
		b = append(b, '"')
	}
	return b, k0, k1
}

// appendOutcome writes the outcome fields of an access line after its
// url: status, bytes and the latency to a tenth of a millisecond.
func appendOutcome(b []byte, status int, size int64, latency float64) []byte {
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, size, 10)
	b = append(b, `,"latency_ms":`...)
	return strconv.AppendFloat(b, math.Round(latency*10)/10, 'f', -1, 64)
}

// appendIP writes the address of visitor id: stable per (seed, id, alt), so
// a user keeps one address (alt 0) with an occasional second one (alt 1).
func (g *Generator) appendIP(b []byte, id, alt uint64) []byte {
	h := mix(g.salt ^ mix(id*2+alt))
	first := 11 + h%212 // public-looking first octet, never 0, 10 or 127
	if first == 127 {
		first = 128
	}
	b = strconv.AppendUint(b, first, 10)
	for i := 1; i < 4; i++ {
		b = append(b, '.')
		b = strconv.AppendUint(b, (h>>(8*i))&0xff, 10)
	}
	return b
}

// expDuration draws an exponential duration with the given mean.
func (g *Generator) expDuration(mean time.Duration) time.Duration {
	return time.Duration(g.r.ExpFloat64() * float64(mean))
}

// mix is the splitmix64 finaliser: a cheap, well-spread hash of x.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
