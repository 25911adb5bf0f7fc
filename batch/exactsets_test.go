package batch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/exact"
)

// exactEvents returns n access-log events spread over [from, from+span):
// registered users, anonymous visitors counted by their address, IPv4
// written canonically and not ("010.0.0.7" is another string for DuckDB),
// IPv6, and empty IPs.
func exactEvents(n int, from time.Time, span time.Duration) []event.Event {
	r := rand.New(rand.NewPCG(7, 11))
	out := make([]event.Event, n)
	for i := range out {
		ev := &out[i]
		ev.Time = from.Add(time.Duration(r.Int64N(int64(span))))
		ev.IngestTime = ev.Time
		switch k := r.IntN(20); {
		case k == 0:
			ev.IP = fmt.Sprintf("2001:db8::%x", r.IntN(3000))
		case k == 1:
			ev.IP = fmt.Sprintf("010.0.%d.%d", r.IntN(4), r.IntN(250))
		case k == 2:
			ev.IP = ""
		default:
			ev.IP = fmt.Sprintf("10.%d.%d.%d", r.IntN(3), r.IntN(200), r.IntN(250))
		}
		ev.User = "-"
		if r.IntN(3) > 0 {
			ev.User = fmt.Sprintf("user%d", r.IntN(20000))
		}
		ev.Raw = []byte("x")
		ev.Topic, ev.Offset = "logs", int64(i)
	}
	return out
}

// TestExactSets checks the exact sets of a recompute against distinct
// counts taken in Go over the generated events: 120k events over three
// hours across midnight, each hour computed by a dictionary read again
// from the lake (as another run or process would), ranges not on hours
// nor on buckets, and the sets' encoding read back.
func TestExactSets(t *testing.T) {
	ctx := context.Background()
	from := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	evs := exactEvents(120_000, from, 3*time.Hour)
	l, err := lake.Open(t.TempDir(), "logs")
	if err != nil {
		t.Fatal(err)
	}
	byHour := map[time.Time][]event.Event{}
	for _, ev := range evs {
		h := ev.Time.Truncate(time.Hour)
		byHour[h] = append(byHour[h], ev)
	}
	conn, closeDuck, err := duckConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDuck()

	// Each hour read back with its panes' sets (exact.Name) and without
	// (exact.HourName: the hour's and its quarters').
	hours, hourOnly := map[int64]*exact.Hour{}, map[int64]*exact.Hour{}
	for i := range 3 {
		h := from.Add(time.Duration(i) * time.Hour)
		rel := fmt.Sprintf("h%d.parquet", i)
		writeLakeFile(t, l, rel, byHour[h], false)
		// A new batch each hour: its dictionary is the lake's.
		b := &Batch{cfg: defaultCfg(), lake: l}
		if err := b.ids.catchUp(ctx, l); err != nil {
			t.Fatal(err)
		}
		if i > 0 && b.ids.len() == 0 {
			t.Fatal("dictionary not read back from the lake")
		}
		ex := newExactHour(&b.ids, b.cfg.Pane)
		panes, err := b.hourPanes(ctx, conn, []string{l.Abs(rel)}, ex)
		if err != nil {
			t.Fatal(err)
		}
		sets, err := ex.hour(h, panes)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.ids.save(ctx, l); err != nil {
			t.Fatal(err)
		}
		enc, err := sets.Encode()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("hour %s: %d panes, %d bytes of sets, dictionary %d", h.Format("15:04"), len(sets.Panes), len(enc), b.ids.len())
		if hours[h.Unix()], err = exact.Decode(enc); err != nil {
			t.Fatal(err)
		}
		if !hours[h.Unix()].HasQuarters() {
			t.Fatalf("hour %s: no quarters' sets", h.Format("15:04"))
		}
		if enc, err = sets.HourOnly().Encode(); err != nil {
			t.Fatal(err)
		}
		if hourOnly[h.Unix()], err = exact.Decode(enc); err != nil {
			t.Fatal(err)
		}
	}

	truth := func(a, z time.Time) (uv, ips int64) {
		u, p := map[string]bool{}, map[string]bool{}
		for i := range evs {
			ev := &evs[i]
			if ev.Time.Before(a) || !ev.Time.Before(z) {
				continue
			}
			if v := ev.Visitor(); v != "" {
				u[v] = true
			}
			if ev.IP != "" {
				p[ev.IP] = true
			}
		}
		return int64(len(u)), int64(len(p))
	}
	var c exact.Counter
	for _, tc := range []struct{ from, to string }{
		{"22:00", "01:00"}, // all, whole hours
		{"22:37", "00:13"}, // across midnight, not on hours
		{"23:59", "00:01"}, // two panes across days
		{"22:05", "22:06"}, // one pane
		{"23:00", "00:00"}, // one whole hour
		{"22:10", "23:50"}, // inside two hours
		{"22:15", "23:45"}, // on quarters: quarters' sets
		{"23:30", "00:45"}, // on quarters, across midnight
		{"00:45", "01:00"}, // one quarter
	} {
		at := func(s string) time.Time {
			tm, _ := time.Parse("15:04", s)
			d := from.Truncate(24 * time.Hour)
			if tm.Hour() < 12 {
				d = d.Add(24 * time.Hour)
			}
			return d.Add(time.Duration(tm.Hour())*time.Hour + time.Duration(tm.Minute())*time.Minute)
		}
		a, z := at(tc.from), at(tc.to)
		wantUV, wantIPs := truth(a, z)
		for _, read := range []struct {
			name  string
			hours map[int64]*exact.Hour
			panes bool
		}{{"with panes", hours, true}, {"hours' own", hourOnly, false}} {
			if !read.panes && (a.Minute()%15 != 0 || z.Minute()%15 != 0) {
				continue // the hours' own files answer only quarters
			}
			c.Reset()
			for h := a.Truncate(time.Hour); h.Before(z); h = h.Add(time.Hour) {
				c.Add(read.hours[h.Unix()], a.Unix(), z.Unix())
			}
			uv, ips, err := c.Counts()
			if err != nil {
				t.Fatal(err)
			}
			if uv != wantUV || ips != wantIPs {
				t.Errorf("%s..%s (%s): uv %d ips %d, want %d %d", tc.from, tc.to, read.name, uv, ips, wantUV, wantIPs)
			}
		}
	}
}
