package speed

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// genLine is one generated record with what the test expects of it,
// decided by the generator itself, not by the code under test.
type genLine struct {
	partition int32
	value     []byte
	format    string    // "format" header, "" for none
	ingest    time.Time // the Kafka record timestamp

	bad         bool      // must end as a parse error
	timeMissing bool      // no usable time in the line: the ingest time counts
	badTS       bool      // with timeMissing: a ts that does not parse
	evTime      time.Time // event time written in the line
	term        string    // hot term, "" for none
	uvid, ip    string
	status      int32
	bytes       int64
	level       string // levels view key: instance (else host), level, "-" for none
}

// genBase is the event time the generated streams start at.
var genBase = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// generate returns perPartition records for each partition: mostly
// in-order access-log events with Zipf-distributed search terms, some out
// of order within the lateness, a few far behind it, malformed JSON,
// binary junk, a non-numeric status, an unknown format header, and lines
// without a usable time. Event time advances by up to maxStep per record.
// Deterministic for a seed.
func generate(seed uint64, partitions int32, perPartition int, maxStep time.Duration) [][]genLine {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	zipf := rand.NewZipf(rng, 1.2, 1, 299)
	// msgs draws the application messages of some lines (patterns view)
	// from its own stream, so the other fields stay as they were.
	msgs := rand.New(rand.NewPCG(seed, 0x6d5))
	out := make([][]genLine, partitions)
	for p := range partitions {
		clock := genBase.Add(time.Duration(p) * 7 * time.Second)
		for range perPartition {
			clock = clock.Add(time.Duration(rng.Int64N(int64(maxStep/time.Millisecond))) * time.Millisecond)
			l := genLine{partition: p, ingest: clock, evTime: clock}
			switch rng.IntN(2) {
			case 0:
				l.format = "json"
			}
			r := rng.Float64()
			switch {
			case r < 0.01:
				junk := make([]byte, 5+rng.IntN(40))
				for i := range junk {
					junk[i] = byte(rng.IntN(256))
				}
				junk[0] = 0xff
				l.value, l.bad = junk, true
				out[p] = append(out[p], l)
				continue
			case r < 0.02:
				l.value = fmt.Appendf(nil, `{"ts":"%s","url":"/search?q=broken`, clock.Format(time.RFC3339Nano))
				l.bad = true
				out[p] = append(out[p], l)
				continue
			case r < 0.025:
				l.value = fmt.Appendf(nil, `{"ts":"%s","url":"/search?q=when","status":"abc"}`, clock.Format(time.RFC3339Nano))
				l.bad = true
				out[p] = append(out[p], l)
				continue
			case r < 0.03:
				l.value, l.format, l.bad = []byte(`<event ts="now"/>`), "xml-nope", true
				out[p] = append(out[p], l)
				continue
			case r < 0.035:
				// No time, or one that does not parse (kept in Fields):
				// either way the ingest time counts.
				l.timeMissing = true
				l.badTS = rng.IntN(2) == 0
			case r < 0.04:
				l.evTime = clock.Add(-time.Duration(180+rng.IntN(240)) * time.Second)
			case r < 0.12:
				l.evTime = clock.Add(-time.Duration(rng.IntN(110_000)) * time.Millisecond)
			}
			user := fmt.Sprintf("u%04d", rng.IntN(3000))
			l.ip = fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(20), rng.IntN(250))
			l.uvid = user
			if rng.IntN(10) == 0 {
				user, l.uvid = "-", l.ip
			}
			url := "/home"
			if rng.IntN(10) < 7 {
				l.term = fmt.Sprintf("term%03d", zipf.Uint64())
				url = "/search?q=" + l.term + "&page=1"
			}
			l.status = 200
			switch s := rng.IntN(100); {
			case s < 8:
				l.status = 404
			case s < 11:
				l.status = 500
			case s < 15:
				l.status = 301
			}
			l.bytes = int64(100 + rng.IntN(5000))
			// Levels: the level follows the status (none on redirects),
			// and every fifth byte count names a DB instance besides the
			// host. The same rng calls as before, in the same order.
			host := rng.IntN(4)
			level, inst := "INFO", ""
			switch {
			case l.status >= 500:
				level = "ERROR"
			case l.status >= 400:
				level = "WARN"
			case l.status >= 300:
				level = ""
			}
			extra := ""
			if level != "" {
				extra += `,"level":"` + level + `"`
			}
			if l.bytes%5 == 0 {
				inst = fmt.Sprintf("db-%d", host)
				extra += `,"instance":"` + inst + `"`
			}
			if m := genMessage(msgs); m != "" {
				extra += `,"msg":"` + m + `"`
			}
			if inst == "" {
				inst = fmt.Sprintf("web-%d", host)
			}
			if level == "" {
				level = "-"
			}
			l.level = inst + "/" + level
			ts := `"ts":"` + l.evTime.Format(time.RFC3339Nano) + `",`
			if l.timeMissing {
				ts = ""
				if l.badTS {
					ts = `"ts":"yesterday",`
				}
			}
			l.value = fmt.Appendf(nil, `{%s"host":"web-%d","user":"%s","ip":"%s","method":"GET","url":"%s","status":%d,"bytes":%d,"latency_ms":%.1f%s}`,
				ts, host, user, l.ip, url, l.status, l.bytes, rng.Float64()*300, extra)
			out[p] = append(out[p], l)
		}
	}
	return out
}

// expPane is what one (pane, partition) document must hold.
type expPane struct {
	pv     int64
	terms  map[string]int64
	uvs    map[string]bool
	ips    map[string]bool
	status [6]int64
	bytes  int64
	levels map[string]int64 // "instance/level" -> count
	offset int64            // last offset applied
}

// expPartition is what a partition's checkpoint must say.
type expPartition struct {
	events, parseErrors, lateDropped int64
	watermark                        time.Time
	lastOffset                       int64
}

// expect computes the expected documents and checkpoints from the
// generated lines by the rule of ARCHITECTURE.md, written out simply: per
// partition, in offset order, watermark = newest event time - lateness,
// an event whose pane ends at or before it is late. Offsets are the
// positions in the partition (the test produces to an empty topic).
func expect(lines [][]genLine, pane, lateness time.Duration) (map[string]*expPane, map[int32]*expPartition) {
	panes := map[string]*expPane{}
	parts := map[int32]*expPartition{}
	for p, ls := range lines {
		ep := &expPartition{lastOffset: int64(len(ls)) - 1}
		parts[int32(p)] = ep
		var newest, wm time.Time
		for off, l := range ls {
			ep.events++
			if l.bad {
				ep.parseErrors++
				continue
			}
			t := l.evTime
			if l.timeMissing {
				t = l.ingest
			}
			start := t.Truncate(pane)
			if !start.Add(pane).After(wm) {
				ep.lateDropped++
				continue
			}
			key := fmt.Sprintf("%s|p%d", start.Format("2006-01-02T15:04Z"), p)
			e := panes[key]
			if e == nil {
				e = &expPane{terms: map[string]int64{}, levels: map[string]int64{}, uvs: map[string]bool{}, ips: map[string]bool{}}
				panes[key] = e
			}
			e.pv++
			if l.term != "" {
				e.terms[l.term]++
			}
			if l.uvid != "" {
				e.uvs[l.uvid] = true
			}
			if l.ip != "" {
				e.ips[l.ip] = true
			}
			e.status[l.status/100]++
			e.bytes += l.bytes
			e.levels[l.level]++
			e.offset = int64(off)
			if !l.timeMissing && t.After(newest) {
				newest = t
				wm = newest.Add(-lateness)
			}
		}
		ep.watermark = wm
	}
	return panes, parts
}

// genMessage returns an application message for about a third of the
// lines ("" for the others): a few templates, numbers and addresses that
// are variables by their form, and words that become variables only after
// the third different one, so that patterns widen mid-stream.
func genMessage(rng *rand.Rand) string {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}
	switch rng.IntN(9) {
	case 0:
		return fmt.Sprintf("cache miss for key %s", words[rng.IntN(len(words))])
	case 1:
		return fmt.Sprintf("connection from 10.1.%d.%d closed after %d ms", rng.IntN(8), rng.IntN(250), rng.IntN(5000))
	case 2:
		return fmt.Sprintf("job %s finished with status %s", words[rng.IntN(3)], []string{"ok", "failed"}[rng.IntN(2)])
	}
	return ""
}
