package batch

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// base is the start of the generated stream: three hours of history.
var base = time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC)

// genRecord is one generated Kafka record, with the facts the test needs
// to compute the expected views itself (never through the code under
// test).
type genRecord struct {
	partition int32
	line      []byte
	ingest    time.Time // Kafka record timestamp, ms precision
	malformed bool
	noTime    bool
	at        time.Time // event time (ingest when noTime)
	term      string    // expected hot term, "" if none
	user, ip  string
	status    int32
	bytes     int64
	latency   float64
	levelKey  string // expected levels key "instance/level"
}

var terms = []string{"shoes", "Shoes ", "hat", "coat", "red dress", "socks", "umbrella"}

// generate returns n records whose event times are spread over [from, to),
// deterministically from seed, across 4 partitions: JSON access-log lines
// with search terms, users (some "-" or absent, so UV falls back to the
// IP), statuses, latencies, some lines without a time and some malformed.
func generate(seed uint64, n int, from, to time.Time) []genRecord {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	span := to.Sub(from)
	out := make([]genRecord, n)
	for i := range out {
		r := &out[i]
		r.partition = int32(rng.IntN(4))
		r.at = from.Add(time.Duration(int64(span) * int64(i) / int64(n))).Add(time.Duration(rng.IntN(900)) * time.Millisecond).Truncate(time.Millisecond)
		if !r.at.Before(to) {
			r.at = to.Add(-time.Millisecond)
		}
		r.ingest = r.at.Add(1500 * time.Millisecond)
		switch k := rng.IntN(100); {
		case k < 4:
			r.malformed = true
			r.line = []byte(fmt.Sprintf(`{"ts": "%s", "broken line %d`, r.at.Format(time.RFC3339), i))
			r.at = r.ingest // parse errors sit at their ingest time
			continue
		case k < 7:
			r.noTime = true
			r.at = r.ingest
		}
		m := map[string]any{"method": "GET", "host": "web-1"}
		inst := "web-1"
		switch i % 7 {
		case 0: // neither host nor instance
			delete(m, "host")
			inst = "-"
		case 1, 2:
			inst = fmt.Sprintf("db-%d", i%2)
			m["instance"] = inst
		}
		if !r.noTime {
			m["ts"] = r.at.Format(time.RFC3339Nano)
		}
		r.ip = fmt.Sprintf("10.0.%d.%d", rng.IntN(3), rng.IntN(40))
		m["ip"] = r.ip
		switch k := rng.IntN(10); {
		case k < 2:
			r.user = "-"
			m["user"] = "-"
		case k < 3:
			// no user field: UV falls back to the IP
		default:
			r.user = fmt.Sprintf("user%d", rng.IntN(60))
			m["user"] = r.user
		}
		url := "/home"
		if rng.IntN(3) > 0 {
			t := terms[rng.IntN(len(terms))]
			url = "/search?q=" + strings.ReplaceAll(t, " ", "+")
			r.term = strings.ToLower(strings.TrimSpace(t))
		}
		m["url"] = url
		r.status = []int32{200, 200, 200, 201, 304, 404, 500, 0}[rng.IntN(8)]
		if r.status != 0 {
			m["status"] = r.status
		}
		level := "INFO" // by status; none without one
		switch r.status {
		case 500:
			level = "ERROR"
		case 404:
			level = "WARN"
		case 0:
			level = ""
		}
		if level != "" {
			m["level"] = level
		} else {
			level = "-"
		}
		r.levelKey = inst + "/" + level
		r.bytes = int64(rng.IntN(5000))
		m["bytes"] = r.bytes
		r.latency = float64(rng.IntN(8000)) / 2 // halves: float sums stay exact
		m["latency_ms"] = r.latency
		r.line, _ = json.Marshal(m)
	}
	return out
}

// event is the Event the record should become, built from the generator's
// facts, for the views the test expects.
func (r *genRecord) event() event.Event {
	return event.Event{Time: r.at, User: r.user, IP: r.ip, Status: r.status, Bytes: r.bytes,
		LatencyMS: r.latency, HotTerm: r.term}
}

// expected is what the test computes from the input for one pane.
type expected struct {
	pane   *views.Pane
	terms  map[string]int64
	levels map[string]int64 // "instance/level" -> count
	uv     map[string]bool
	ips    map[string]bool
}

// expectPanes computes the batch panes of the records whose event time
// falls in [from, to), from the generator's facts.
func expectPanes(recs []genRecord, from, to time.Time) map[time.Time]*expected {
	out := map[time.Time]*expected{}
	for i := range recs {
		r := &recs[i]
		if r.malformed || r.at.Before(from) || !r.at.Before(to) {
			continue
		}
		t := r.at.Truncate(time.Minute)
		e := out[t]
		if e == nil {
			e = &expected{pane: views.NewPane(0), terms: map[string]int64{}, levels: map[string]int64{}, uv: map[string]bool{}, ips: map[string]bool{}}
			out[t] = e
		}
		ev := r.event()
		e.pane.Add(&ev)
		if r.term != "" {
			e.terms[r.term]++
		}
		id := r.user
		if id == "" || id == "-" {
			id = r.ip
		}
		e.uv[id] = true
		e.ips[r.ip] = true
		e.levels[r.levelKey]++
	}
	return out
}

// lagging returns one well-formed record on partition 0 with event time at
// and record timestamp ingest: a producer still writing, its event time
// behind the clock (a shipper catching up), so the partition is not quiet
// and only its event time can complete the hours.
func lagging(at, ingest time.Time) genRecord {
	for seed := uint64(100); ; seed++ {
		r := generate(seed, 1, at, at.Add(time.Millisecond))[0]
		if r.malformed || r.noTime {
			continue
		}
		r.partition, r.ingest = 0, ingest
		return r
	}
}
