package cli

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The ingest end-to-end test writes real log files: an Apache/nginx
// combined access log and a JSON application log. It computes what the
// views must say from the text it wrote, with its own regexp and
// encoding/json, never with schemas/formats.

// ingestLogs are the files written for the test and what they hold.
type ingestLogs struct {
	access, app []string // lines as written
	// malformed counts the lines of each file that no parser can read.
	accessMalformed, appMalformed int
}

// ingestTerms are the search terms; the access log writes them with
// mixed case, '+' or %20 for spaces, and padding, as browsers and people
// do, so the hot view must normalise them (lower case, trimmed).
var ingestTerms = []string{"shoes", "red dress", "Hat", "winter coat", "socks", "umbrella",
	"laptop", "usb-c cable", "tea", "coffee mug", "desk lamp", "yoga mat", "backpack", "gloves",
	"scarf", "sunglasses", "headphones", "phone case", "water bottle"}

var ingestAgents = []string{
	`Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0`,
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36`,
	`curl/8.5.0`, `Googlebot/2.1 (+http://www.google.com/bot.html)`,
}

// writeIngestLogs writes n access-log lines with times spread in order
// over [from, to), apps app-log lines in [from, from+1h), and a few
// malformed lines in each.
func writeIngestLogs(t *testing.T, dir string, seed uint64, n, apps int, from, to time.Time) (ingestLogs, string, string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	zipf := rand.NewZipf(rng, 1.2, 1, uint64(len(ingestTerms)-1))
	octets := []int{66, 81, 93, 151, 203}
	zones := []*time.Location{time.UTC, time.FixedZone("CEST", 2*3600), time.FixedZone("EDT", -4*3600)}
	var lg ingestLogs
	span := to.Sub(from)
	for i := 0; i < n; i++ {
		at := from.Add(time.Duration(int64(span) * int64(i) / int64(n))).Truncate(time.Second)
		switch i % 1500 {
		case 100:
			lg.access = append(lg.access, fmt.Sprintf("garbage from a misconfigured vhost %d", i))
			lg.accessMalformed++
		case 700:
			lg.access = append(lg.access, fmt.Sprintf(`203.0.113.7 - - [%s] "GET /search?q=trunc`, at.Format("02/Jan/2006:15:04:05 -0700")))
			lg.accessMalformed++
		case 1200:
			lg.access = append(lg.access, fmt.Sprintf(`203.0.113.8 - - [%s] "GET / HTTP/1.1" OK 12 "-" "x"`, at.Format("02/Jan/2006:15:04:05 -0700")))
			lg.accessMalformed++
		}
		// 20 000 addresses, most requests anonymous ("-"); 40 % from 50
		// logged-in users on any address, so UV by ip differs clearly from
		// UV by user.
		id := rng.IntN(20000)
		ip := fmt.Sprintf("%d.%d.%d.%d", octets[id%5], id/5%200+10, id/1000+1, id%250+1)
		user := "-"
		if rng.IntN(10) < 4 {
			user = fmt.Sprintf("user%02d", rng.IntN(50))
		}
		method, target := "GET", "/"
		switch k := rng.IntN(10); {
		case k < 5:
			term := ingestTerms[zipf.Uint64()]
			q := url.QueryEscape(term)
			switch rng.IntN(4) {
			case 0:
				q = strings.ReplaceAll(url.PathEscape(term), "+", "%2B")
			case 1:
				q = url.QueryEscape(" " + strings.ToUpper(term[:1]) + term[1:] + " ")
			}
			target = "/search?q=" + q
			if rng.IntN(5) == 0 {
				target += "&page=" + strconv.Itoa(rng.IntN(5)+2)
			}
		case k < 7:
			target = fmt.Sprintf("/product/%d", rng.IntN(5000))
		case k < 8:
			method, target = "POST", "/cart"
		case k < 9:
			target = "/static/app.js"
		default:
			target = "/search?page=2" // a search page without a term
		}
		status := []int{200, 200, 200, 200, 200, 200, 304, 301, 404, 404, 500, 503}[rng.IntN(12)]
		bytes := strconv.Itoa(rng.IntN(50000) + 100)
		if status == 304 || rng.IntN(20) == 0 {
			bytes = "-"
		}
		local := at.In(zones[rng.IntN(len(zones))])
		lg.access = append(lg.access, fmt.Sprintf(`%s - %s [%s] "%s %s HTTP/1.1" %d %s "%s" "%s"`,
			ip, user, local.Format("02/Jan/2006:15:04:05 -0700"), method, target, status, bytes,
			"https://shop.example/", ingestAgents[rng.IntN(len(ingestAgents))]))
	}
	levels := []string{"INFO", "INFO", "INFO", "WARN", "ERROR"}
	for i := 0; i < apps; i++ {
		at := from.Add(time.Duration(int64(time.Hour) * int64(i) / int64(apps))).Truncate(time.Millisecond)
		if i%200 == 50 {
			lg.app = append(lg.app, fmt.Sprintf(`{"ts":"%s","level":"ERROR","msg":"cut off`, at.Format(time.RFC3339Nano)))
			lg.appMalformed++
		}
		line, _ := json.Marshal(map[string]any{"ts": at.Format(time.RFC3339Nano), "level": levels[rng.IntN(len(levels))],
			"instance": fmt.Sprintf("db-%d", rng.IntN(3)), "msg": fmt.Sprintf("checkpoint complete: wrote %d buffers", rng.IntN(900))})
		lg.app = append(lg.app, string(line))
	}
	access := filepath.Join(dir, "access.log")
	app := filepath.Join(dir, "app.log")
	for p, lines := range map[string][]string{access: lg.access, app: lg.app} {
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return lg, access, app
}

// ingestHit is one request or app record as the test reads it back.
type ingestHit struct {
	at       time.Time
	ip, user string
	term     string // normalised search term, "" for none
}

// combinedRE is the test's own reading of the combined log format.
var combinedRE = regexp.MustCompile(`^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) HTTP/[0-9.]+" (\d{3}) (\d+|-) "[^"]*" "[^"]*"$`)

// readIngestTruth parses the lines the test wrote, independently of
// loglambda, into hits; it returns the hits and the lines it could not
// read.
func readIngestTruth(t *testing.T, lg ingestLogs) (hits []ingestHit, bad int) {
	t.Helper()
	for _, l := range lg.access {
		m := combinedRE.FindStringSubmatch(l)
		if m == nil {
			bad++
			continue
		}
		at, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[3])
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		h := ingestHit{at: at.UTC(), ip: m[1], user: m[2]}
		if _, query, ok := strings.Cut(m[5], "?"); ok {
			if v, err := url.ParseQuery(query); err == nil && v.Has("q") {
				h.term = strings.ToLower(strings.TrimSpace(v.Get("q")))
			}
		}
		hits = append(hits, h)
	}
	for _, l := range lg.app {
		var rec struct {
			TS time.Time `json:"ts"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			bad++
			continue
		}
		hits = append(hits, ingestHit{at: rec.TS.UTC()})
	}
	return hits, bad
}

// ingestCounts are the true views of a time range.
type ingestCounts struct {
	pv, uvByIP, uvByUser, ips int64
	terms                     map[string]int64
}

// countIngest computes the views of [from, to) from the hits: UV by the
// ip rule (--uv-field ip) and, to show the rule matters, by the default
// user-then-ip rule.
func countIngest(hits []ingestHit, from, to time.Time) ingestCounts {
	c := ingestCounts{terms: map[string]int64{}}
	byIP, byUser := map[string]bool{}, map[string]bool{}
	for _, h := range hits {
		if h.at.Before(from) || !h.at.Before(to) {
			continue
		}
		c.pv++
		if h.ip != "" {
			byIP[h.ip] = true
		}
		switch {
		case h.user != "" && h.user != "-":
			byUser[h.user] = true
		case h.ip != "":
			byUser[h.ip] = true
		}
		if h.term != "" {
			c.terms[h.term]++
		}
	}
	c.uvByIP, c.uvByUser, c.ips = int64(len(byIP)), int64(len(byUser)), int64(len(byIP))
	return c
}
