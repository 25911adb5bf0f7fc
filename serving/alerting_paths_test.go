package serving

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// TestAlertsPaths: rules on the paths view, which the rule engine does not
// know itself (serving's table of the views declares its measures), over
// 40 minutes of the demo's traffic into which a slow /export (5 s a
// request, one every 2 s, 09:30 to 09:34) is injected beside its usual
// 40 ms requests. SlowExport (p99 of /export's latency above 1 s over 5
// minutes) fires exactly while the exact p99 of the window's /export
// requests, computed here from the events, is above 1 s (evaluations
// within the sketch's relative error of the threshold are not judged);
// BusyPaths (requests per path above a threshold, grouped by path) fires
// for exactly the paths whose exact request count in the window is above
// it.
func TestAlertsPaths(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	hook := startHook(t)
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	evs, _ := genEvents(t, start, 40*time.Minute, 5, 17)
	evs, _ = injectExports(evs, start, start.Add(40*time.Minute), func(i int, at time.Time) (float64, int64, bool) {
		if !at.Before(start.Add(30*time.Minute)) && at.Before(start.Add(34*time.Minute)) {
			return 5000, 1000, true // slow
		}
		return 40, 1000, i%5 == 0
	})

	// The busy threshold: the fifth busiest path's requests in a 5-minute
	// window of the generator's traffic, so some paths are above it.
	busy := pathCounts(evs, start, start.Add(5*time.Minute))
	counts := make([]int, 0, len(busy))
	for _, n := range busy {
		counts = append(counts, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	threshold := counts[min(4, len(counts)-1)]
	path := hookRules(t, hook, fmt.Sprintf(`  - name: SlowExport
    view: paths
    measure: latency_p99
    where: {path: /export}
    window: 5m
    threshold: {above: 1000}
    notify: [hook]
  - name: BusyPaths
    view: paths
    measure: requests
    group_by: [path]
    window: 5m
    threshold: {above: %d}
    notify: [hook]
`, threshold))
	clk := &testClock{t: start}
	s := alertServer(t, db, clk, path, "A")
	feed := newSpeedFeed(db, evs)
	feed.views = []string{views.ViewPaths}
	slowFired, judged := 0, 0
	for now := start.Add(20 * time.Minute); now.Before(start.Add(40 * time.Minute)); now = now.Add(time.Minute) {
		step(t, ctx, clk, feed, now, s)
		from := now.Add(-5 * time.Minute) // now is on the pane grid
		as, err := s.Alerts().Alerts(ctx, start, now.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		firing := map[string]bool{}
		for _, a := range as {
			if a.State == "firing" {
				firing[a.Rule+" "+a.Labels["path"]] = true
			}
		}
		var lat []float64
		for _, ev := range evs {
			if ev.Path == "/export" && ev.LatencyMS > 0 && !ev.Time.Before(from) && ev.Time.Before(now) {
				lat = append(lat, ev.LatencyMS)
			}
		}
		sort.Float64s(lat)
		p99 := lat[int(math.Floor(0.99*float64(len(lat)-1)))]
		if math.Abs(p99-1000) > 1000*views.SketchAlpha*1.5 {
			judged++
			if firing["SlowExport /export"] != (p99 > 1000) {
				t.Errorf("%s: SlowExport firing %v, exact p99 of /export %.0f ms", now.Format("15:04"), firing["SlowExport /export"], p99)
			}
		}
		if firing["SlowExport /export"] {
			slowFired++
		}
		n := 0
		for p, c := range pathCounts(evs, from, now) {
			if firing["BusyPaths "+p] != (c > threshold) {
				t.Errorf("%s: BusyPaths for %s firing %v, exact requests %d, threshold %d", now.Format("15:04"), p, firing["BusyPaths "+p], c, threshold)
			}
			if c > threshold {
				n++
			}
		}
		t.Logf("%s: /export p99 %.0f ms, %d paths above %d requests", now.Format("15:04"), p99, n, threshold)
	}
	if slowFired == 0 || judged < 15 {
		t.Errorf("SlowExport fired at %d evaluations, %d judged", slowFired, judged)
	}
	if got := hook.byStatus(); got["firing"] == 0 || got["resolved"] == 0 {
		t.Errorf("notifications %v, want firing and resolved ones", got)
	}
}

// pathCounts is the requests per path of the events in [from, to).
func pathCounts(evs []event.Event, from, to time.Time) map[string]int {
	out := map[string]int{}
	for _, ev := range evs {
		if ev.Path != "" && ev.ParseError == "" && !ev.Time.Before(from) && ev.Time.Before(to) {
			out[ev.Path]++
		}
	}
	return out
}

// injectExports adds to evs a GET /export by web-1 every 2 s of [from,
// to), the i-th at from + 2i s + 1 s on partition i%4, with the latency
// and bytes req gives, when it says so; it returns the events in time
// order and the times added.
func injectExports(evs []event.Event, from, to time.Time, req func(i int, at time.Time) (latency float64, bytes int64, ok bool)) ([]event.Event, []time.Time) {
	var added []time.Time
	for at, i := from, 0; at.Before(to); at, i = at.Add(2*time.Second), i+1 {
		lat, size, ok := req(i, at)
		if !ok {
			continue
		}
		evs = append(evs, event.Event{Time: at.Add(time.Second), Host: "web-1", Method: "GET", Path: "/export",
			Status: 200, LatencyMS: lat, Bytes: size, Partition: int32(i % 4)})
		added = append(added, at.Add(time.Second))
	}
	slices.SortStableFunc(evs, func(a, b event.Event) int { return a.Time.Compare(b.Time) })
	return evs, added
}
