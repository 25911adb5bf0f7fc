package views

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/loglambda/loglambda/schemas/event"
)

// TestHLLHash holds Traffic.Add, which hashes a visitor that is its IP
// once for both sketches, to the sketches' own Insert of each identity:
// the same UV and IP sketches, byte for byte, sparse and dense, for
// visitors by user, by IP (no user, "-") and without an IP.
func TestHLLHash(t *testing.T) {
	for _, n := range []int{50, 5000} {
		got := NewTraffic()
		uv, ips := hyperloglog.New14(), hyperloglog.New14()
		for i := range n {
			ev := event.Event{IP: fmt.Sprintf("10.%d.%d.%d", i%3, i%97, i%251)}
			switch i % 4 {
			case 0:
				ev.User = fmt.Sprintf("u%d", i%301)
			case 1:
				ev.User = "-"
			case 2:
				ev.IP = ""
				ev.User = fmt.Sprintf("v%d", i)
			}
			got.Add(&ev)
			if id := ev.Visitor(); id != "" {
				uv.Insert([]byte(id))
			}
			if ev.IP != "" {
				ips.Insert([]byte(ev.IP))
			}
		}
		for _, c := range []struct {
			name      string
			got, want *hyperloglog.Sketch
		}{{"uv", got.UV, uv}, {"ips", got.IPs, ips}} {
			g, _ := c.got.MarshalBinary()
			w, _ := c.want.MarshalBinary()
			if string(g) != string(w) || c.got.Estimate() != c.want.Estimate() {
				t.Errorf("%d events: %s sketch differs from Insert's (estimate %d, want %d)", n, c.name, c.got.Estimate(), c.want.Estimate())
			}
		}
	}
}

func TestTrafficUVWithinError(t *testing.T) {
	for _, n := range []int{10, 1000, 50000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			a, b := NewTraffic(), NewTraffic()
			users := map[string]bool{}
			for i := 0; i < 3*n; i++ {
				ev := event.Event{User: fmt.Sprintf("u%d", i%n), IP: fmt.Sprintf("10.0.%d.%d", i%7, i%250), Status: 200}
				if i%5 == 0 {
					ev.User = "-" // falls back to the ip
				}
				users[ev.UVID()] = true
				if i%2 == 0 {
					a.Add(&ev)
				} else {
					b.Add(&ev)
				}
			}
			a.Merge(b)
			if a.PV != int64(3*n) {
				t.Fatalf("pv %d, want %d", a.PV, 3*n)
			}
			got, want := float64(a.UVCount()), float64(len(users))
			if math.Abs(got-want)/want > 0.02 {
				t.Fatalf("uv %v, exact %v: more than 2%% off", got, want)
			}
		})
	}
}

func TestTrafficExactAndCodec(t *testing.T) {
	p := NewPane(10)
	for i, st := range []int32{200, 304, 404, 500, 0} {
		p.Add(&event.Event{Time: time.Unix(0, 0), User: "u", IP: "1.2.3.4", Status: st, Bytes: 100, LatencyMS: float64(i * 3), HotTerm: "shoes"})
	}
	p.Add(&event.Event{ParseError: "bad"})
	p.Traffic.ExactUV, p.Traffic.ExactIPs, p.Traffic.HasExact = 1, 1, true
	if p.Traffic.PV != 5 || p.Traffic.Status != [6]int64{1, 0, 1, 1, 1, 1} || p.Traffic.Bytes != 500 {
		t.Fatalf("counters: %+v", p.Traffic)
	}
	q := NewPane(10)
	for _, v := range Names {
		b, err := p.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Decode(v, b); err != nil {
			t.Fatal(err)
		}
	}
	if q.Traffic.PV != 5 || !q.Traffic.HasExact || q.Traffic.UVCount() != 1 || q.Traffic.Latency != p.Traffic.Latency {
		t.Fatalf("decoded %+v", q.Traffic)
	}
	// Merging with the empty pane keeps exact counts; with another pane it
	// cannot.
	q.Merge(NewPane(10))
	if !q.Traffic.HasExact {
		t.Fatal("merge with identity lost exact counts")
	}
	q.Merge(p)
	if q.Traffic.HasExact || q.Traffic.PV != 10 {
		t.Fatalf("after merge: exact=%v pv=%d", q.Traffic.HasExact, q.Traffic.PV)
	}
}

func TestGrid(t *testing.T) {
	for _, tc := range []struct {
		step time.Duration
		ok   bool
	}{{time.Minute, true}, {5 * time.Minute, true}, {7 * time.Minute, false}, {time.Hour, true}, {2 * time.Hour, false}, {0, false}} {
		_, err := NewGrid(tc.step)
		if (err == nil) != tc.ok {
			t.Errorf("NewGrid(%s): err=%v, want ok=%v", tc.step, err, tc.ok)
		}
	}
	g, _ := NewGrid(5 * time.Minute)
	at := time.Date(2026, 11, 20, 10, 7, 59, 0, time.UTC)
	if got := g.Start(at); !got.Equal(time.Date(2026, 11, 20, 10, 5, 0, 0, time.UTC)) {
		t.Fatalf("start %s", got)
	}
	if n := len(g.Panes(at, at.Add(time.Hour))); n != 13 {
		t.Fatalf("%d panes", n)
	}
}

// TestGridStart holds Start to what it was, t.UTC().Truncate(step), for
// every width a grid allows, times before and after the epoch, at and
// beside pane edges, in other zones, with a monotonic reading, and beyond
// the years whose Unix nanoseconds fit an int64.
func TestGridStart(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ny := time.FixedZone("x", -5*3600-30*60)
	now := time.Now()
	for _, step := range []time.Duration{time.Second, 1500 * time.Millisecond, 2 * time.Second, time.Minute, 5 * time.Minute, 45 * time.Second, time.Hour} {
		g, err := NewGrid(step)
		if err != nil {
			t.Fatal(err)
		}
		times := []time.Time{now, {}, time.Unix(0, 0), time.Unix(0, -1), time.Unix(-1, 0),
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(1685, 6, 1, 0, 0, 0, 1, time.UTC), time.Date(2255, 1, 1, 0, 0, 0, 0, ny),
			time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}
		for range 20_000 {
			ts := time.Unix(r.Int64N(2*maxUnixNanoSec+2e8)-maxUnixNanoSec-1e8, r.Int64N(1e9))
			edge := ts.Truncate(step)
			times = append(times, ts, ts.In(ny), edge, edge.Add(-1), edge.Add(1))
		}
		for _, ts := range times {
			got, want := g.Start(ts), ts.UTC().Truncate(step)
			if got != want {
				t.Fatalf("step %s: Start(%s) = %s, want %s", step, ts, got, want)
			}
		}
	}
}
