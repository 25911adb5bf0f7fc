package gen

import (
	"math"
	"strconv"
	"time"
)

// Behaviour groups: besides ordinary page views (GroupPage, whose shape
// follows the page kind), web traffic has a few shapes of its own, the
// ones the clusters view is there to show: cache hits answered in a
// millisecond with nothing or little sent, searches that went slow,
// large downloads, and bot scans probing for admin pages. Their mix
// follows the time of day (downloads at night, slow searches at the
// evening peak, bots before dawn), and a few anomalies are injected: for
// three minutes three times a day, a share of requests times out after
// about 30 s with nothing sent.
const (
	GroupApp        = "app" // application (DB) log lines: no latency or size
	GroupPage       = "page"
	GroupCached     = "cached"
	GroupSlowSearch = "slow-search"
	GroupDownload   = "download"
	GroupBot        = "bot-scan"
	GroupAnomaly    = "anomaly"
)

// Groups lists the web behaviour groups, GroupPage first.
var Groups = []string{GroupPage, GroupCached, GroupSlowSearch, GroupDownload, GroupBot, GroupAnomaly}

// groupShares returns the share of each non-page group among web events
// at t (GroupPage takes the rest), in Groups order from GroupCached.
func groupShares(t time.Time) [5]float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	bump := func(centre, width float64) float64 { // a daily bump, 0..1
		d := math.Abs(h - centre)
		d = math.Min(d, 24-d)
		return math.Exp(-d * d / (2 * width * width))
	}
	var s [5]float64
	s[0] = 0.08 + 0.06*bump(13, 4)   // cached: with daytime page views
	s[1] = 0.01 + 0.07*bump(20, 2)   // slow searches: the evening peak
	s[2] = 0.005 + 0.05*bump(3, 2)   // downloads: at night
	s[3] = 0.005 + 0.08*bump(4.5, 1) // bots: before dawn
	if anomalyAt(t) {
		s[4] = 0.25
	}
	return s
}

// anomalyAt reports whether t falls in an injected anomaly: minutes 17 to
// 19 of 03:00, 11:00 and 19:00 UTC.
func anomalyAt(t time.Time) bool {
	h, m := t.Hour(), t.Minute()
	return (h == 3 || h == 11 || h == 19) && m >= 17 && m < 20
}

// pickGroup draws the behaviour group of a web event at t.
func (g *Generator) pickGroup(t time.Time) string {
	s := groupShares(t)
	u := g.r.Float64()
	for i, p := range s {
		if u < p {
			return Groups[i+1]
		}
		u -= p
	}
	return GroupPage
}

// appendTraffic writes a web event of a group drawn for t: a page view
// as appendWeb writes it, or one of the other groups' shapes.
func (g *Generator) appendTraffic(b []byte, t time.Time, inBurst bool) ([]byte, int, int) {
	g.group = g.pickGroup(t)
	if g.group == GroupPage {
		return g.appendWeb(b, inBurst)
	}
	return g.appendGroup(b, g.group)
}

// appendGroup writes an access line of a non-page group. The visitor is
// anonymous (bots, download mirrors and cache probes seldom log in): the
// key is the IP.
func (g *Generator) appendGroup(b []byte, group string) ([]byte, int, int) {
	r := g.r
	b = g.appendWebHost(b)
	b = append(b, `","user":"-","ip":"`...)
	k0 := len(b)
	b = g.appendIP(b, 1<<32+g.anonZipf.Uint64(), 0)
	k1 := len(b)
	logn := func(median, sigma float64) float64 { return median * math.Exp(sigma*r.NormFloat64()) }
	var url string
	status, level, msg := 200, "INFO", "request handled"
	var size int64
	var latency float64
	switch group {
	case GroupCached:
		url = staticPaths[r.IntN(len(staticPaths))]
		latency = logn(0.6, 0.4)
		if r.Float64() < 0.5 {
			status = 304
		} else {
			size = int64(logn(900, 0.3))
		}
	case GroupSlowSearch:
		url = "/search?q=" + strconvTerm(g.terms[g.termZipf.Uint64()])
		latency = logn(2500, 0.35)
		size = int64(logn(30000, 0.5))
		level, msg = "WARN", "slow request"
	case GroupDownload:
		url = "/download/catalog-" + strconv.Itoa(2020+r.IntN(7)) + ".zip"
		size = int64(logn(40e6, 0.6))
		latency = logn(8000, 0.5)
	case GroupBot:
		url = botPaths[r.IntN(len(botPaths))]
		status, level, msg = 404, "WARN", "not found"
		latency = logn(2, 0.3)
		size = int64(140 + r.IntN(20))
	case GroupAnomaly:
		url = "/search?q=" + strconvTerm(g.terms[g.termZipf.Uint64()])
		status, level, msg = 504, "ERROR", "upstream timed out"
		latency = logn(30000, 0.05)
	}
	b = append(b, `","method":"GET","url":"`...)
	b = append(b, url...)
	b = appendOutcome(b, status, size, latency)
	b = append(b, `,"level":"`...)
	b = append(b, level...)
	b = append(b, `","msg":"`...)
	b = append(b, msg...)
	b = append(b, '"')
	return b, k0, k1
}

// strconvTerm writes a search term as a URL query value.
func strconvTerm(t string) string {
	out := []byte(t)
	for i, c := range out {
		if c == ' ' {
			out[i] = '+'
		}
	}
	return string(out)
}

// botPaths are what vulnerability scanners probe for.
var botPaths = []string{"/wp-login.php", "/.env", "/admin/config.php", "/phpmyadmin/", "/.git/config", "/xmlrpc.php", "/cgi-bin/luci"}
