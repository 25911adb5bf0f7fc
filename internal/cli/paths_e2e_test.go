package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// exactAt is the value at rank floor(q·(n-1)) of sorted values: what a
// sketch's Quantile estimates.
func exactAt(sorted []float64, q float64) float64 {
	return sorted[int(math.Floor(q*float64(len(sorted)-1)))]
}

// within reports whether got is within the sketch's relative error of
// want (0 for values <= 0), with room for float rounding.
func within(got, want float64) bool {
	if want <= 0 {
		return got == 0
	}
	return math.Abs(got-want) <= views.SketchAlpha*want*(1+1e-9)
}

// TestPathsSketch: quantiles of skewed values (log-normal, zeros, tiny and
// huge) are within the relative error of the exact ones at every rank
// asked, whether the values went into one sketch or were split over five
// and merged in any order; the merged sketches are equal; the codec
// keeps them.
func TestPathsSketch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	vals := make([]float64, 50000)
	for i := range vals {
		switch i % 50 {
		case 0:
			vals[i] = 0
		case 1:
			vals[i] = 1e-3 * r.Float64()
		case 2:
			vals[i] = 1e9 * r.Float64()
		default:
			vals[i] = math.Exp(4 + 1.5*r.NormFloat64())
		}
	}
	var one views.Sketch
	parts := make([]views.Sketch, 5)
	for i, v := range vals {
		one.Add(v)
		parts[i%5].Add(v)
	}
	var fwd, back views.Sketch
	for i := range parts {
		fwd.Merge(&parts[i])
		back.Merge(&parts[len(parts)-1-i])
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	for _, q := range []float64{0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1} {
		want := exactAt(sorted, q)
		for name, k := range map[string]*views.Sketch{"one": &one, "merged": &fwd, "merged backwards": &back} {
			if got := k.Quantile(q); !within(got, want) {
				t.Errorf("%s: q %g: %g, exact %g (relative error %.4f > %g)", name, q, got, want, math.Abs(got-want)/want, views.SketchAlpha)
			}
		}
	}
	if one.Count() != int64(len(vals)) || fwd.Count() != one.Count() {
		t.Errorf("counts %d, %d; want %d", one.Count(), fwd.Count(), len(vals))
	}
	// As states: one path's sketches, split and merged, encode equal.
	a, b := views.NewPaths(), views.NewPaths()
	for i, v := range vals {
		a.Add(&event.Event{Path: "/x", Bytes: int64(v), LatencyMS: v})
		if i%2 == 0 {
			b.Add(&event.Event{Path: "/x", Bytes: int64(v), LatencyMS: v})
		}
	}
	c := views.NewPaths()
	for i, v := range vals {
		if i%2 == 1 {
			c.Add(&event.Event{Path: "/x", Bytes: int64(v), LatencyMS: v})
		}
	}
	c.Merge(b)
	ea, _ := a.MarshalBinary()
	ec, _ := c.MarshalBinary()
	if !bytes.Equal(ea, ec) {
		t.Error("a state split in two and merged encodes differently from the whole")
	}
	d := views.NewPaths()
	if err := d.UnmarshalBinary(ec); err != nil {
		t.Fatal(err)
	}
	if ed, _ := d.MarshalBinary(); !bytes.Equal(ed, ec) {
		t.Error("decode and encode again: the bytes changed")
	}
	for i := range len(ec) {
		if err := views.NewPaths().UnmarshalBinary(ec[:i]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", i, len(ec))
		}
	}
}

// TestPathsEndToEnd runs speed and batch over three hours of generated
// traffic and checks the paths view through every layer: batch's pane
// states (folded from the lake with the view's Add) equal speed's, bit
// for bit; /v1/paths over the batch range gives every path's requests and
// bytes exactly and its latency and bytes quantiles within the sketch's
// relative error of the exact ones, all computed here from the lines
// produced.
func TestPathsEndToEnd(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: starts Kafka, MongoDB and all layers")
	const rate = 2.0 // 3 h: 21 600 events
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-4 * time.Hour)
	end := t0.Add(3 * time.Hour)
	batchNow := end.Add(30 * time.Minute)
	horizon := end.Add(-time.Hour) // the last hour is within the grace

	vs := startViewStack(t, 10*time.Minute, 5, rate, t0, end, batchNow)

	// The exact figures per path of [t0, horizon), from the lines.
	type exact struct {
		count, bytesSum int64
		bytes, latency  []float64
	}
	want := map[string]*exact{}
	for _, r := range vs.recs {
		var line struct {
			TS      time.Time `json:"ts"`
			URL     string    `json:"url"`
			Bytes   int64     `json:"bytes"`
			Latency float64   `json:"latency_ms"`
		}
		if err := json.Unmarshal(r.Line, &line); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(line.URL)
		if line.URL == "" || err != nil || line.TS.Before(t0) || !line.TS.Before(horizon) {
			continue
		}
		e := want[u.Path]
		if e == nil {
			e = &exact{}
			want[u.Path] = e
		}
		e.count++
		e.bytesSum += line.Bytes
		e.bytes = append(e.bytes, float64(line.Bytes))
		if line.Latency > 0 {
			e.latency = append(e.latency, line.Latency)
		}
	}
	if len(want) < 50 {
		t.Fatalf("the traffic has %d paths: too few to test", len(want))
	}

	if n, want := vs.batchEqualsSpeed(t, views.ViewPaths), int(horizon.Sub(t0)/(10*time.Minute)); n != want {
		t.Errorf("compared %d batch panes with speed, want %d", n, want)
	}

	var ans struct {
		Paths []struct {
			Path     string `json:"path"`
			Count    int64  `json:"count"`
			BytesSum int64  `json:"bytes_sum"`
			Bytes    struct {
				Count              int64
				P50, P90, P99, Max float64
			} `json:"bytes"`
			Latency struct {
				Count              int64
				P50, P90, P99, Max float64
			} `json:"latency_ms"`
		} `json:"paths"`
		TotalPaths    int     `json:"total_paths"`
		RelativeError float64 `json:"relative_error"`
		Exact         bool    `json:"exact"`
	}
	q := fmt.Sprintf("%s/v1/paths?from=%s&to=%s&k=1000", vs.web.URL, t0.Format(time.RFC3339), horizon.Format(time.RFC3339))
	if resp, body := testkit.Get(t, q); resp.StatusCode != 200 || json.Unmarshal(body, &ans) != nil {
		t.Fatalf("GET %s: %d %s", q, resp.StatusCode, body)
	}
	if !ans.Exact || ans.RelativeError != views.SketchAlpha || ans.TotalPaths != len(want) || len(ans.Paths) != len(want) {
		t.Fatalf("exact %v, relative error %g, %d paths (%d listed); want exact, %g, %d", ans.Exact, ans.RelativeError,
			ans.TotalPaths, len(ans.Paths), views.SketchAlpha, len(want))
	}
	for i, p := range ans.Paths {
		e := want[p.Path]
		if e == nil {
			t.Errorf("path %q: answered, not in the traffic", p.Path)
			continue
		}
		if i > 0 && p.Count > ans.Paths[i-1].Count {
			t.Errorf("path %q: %d requests after %d: not busiest first", p.Path, p.Count, ans.Paths[i-1].Count)
		}
		if p.Count != e.count || p.BytesSum != e.bytesSum || p.Bytes.Count != e.count || p.Latency.Count != int64(len(e.latency)) {
			t.Errorf("path %q: count %d, bytes %d, sketches %d and %d; want %d, %d, %d and %d", p.Path, p.Count, p.BytesSum,
				p.Bytes.Count, p.Latency.Count, e.count, e.bytesSum, e.count, len(e.latency))
		}
		slices.Sort(e.bytes)
		slices.Sort(e.latency)
		for _, c := range []struct {
			name string
			got  [4]float64
			vals []float64
		}{
			{"bytes", [4]float64{p.Bytes.P50, p.Bytes.P90, p.Bytes.P99, p.Bytes.Max}, e.bytes},
			{"latency", [4]float64{p.Latency.P50, p.Latency.P90, p.Latency.P99, p.Latency.Max}, e.latency},
		} {
			if len(c.vals) == 0 {
				continue
			}
			for j, q := range []float64{0.5, 0.9, 0.99, 1} {
				if w := exactAt(c.vals, q); !within(c.got[j], w) {
					t.Errorf("path %q %s q%g: %g, exact %g", p.Path, c.name, q, c.got[j], w)
				}
			}
		}
	}
}

// TestPathsCap: a state keeps the PathsCap paths that sort first and
// counts the rest under PathsOther, whatever the order and split of the
// events; a state made for merging (NewMergePaths) keeps every path.
func TestPathsCap(t *testing.T) {
	const n = views.PathsCap + 500
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("/p/%05d", i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(n, func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	whole, a, b, all := views.NewPaths(), views.NewPaths(), views.NewPaths(), views.NewMergePaths()
	for i, p := range paths {
		ev := &event.Event{Path: p, Bytes: int64(i)}
		whole.Add(ev)
		all.Add(ev)
		if i%3 == 0 {
			a.Add(ev)
		} else {
			b.Add(ev)
		}
	}
	b.Merge(a)
	ew, _ := whole.MarshalBinary()
	eb, _ := b.MarshalBinary()
	if !bytes.Equal(ew, eb) {
		t.Error("the capped state depends on how the events were split")
	}
	got := map[string]int64{}
	for _, st := range whole.Stats() {
		got[st.Path] = st.Count
	}
	if len(got) != views.PathsCap+1 || got[views.PathsOther] != 500 {
		t.Errorf("%d paths, %d under %s; want %d and 500", len(got), got[views.PathsOther], views.PathsOther, views.PathsCap+1)
	}
	for i := range views.PathsCap {
		if p := fmt.Sprintf("/p/%05d", i); got[p] != 1 {
			t.Fatalf("path %s (sorts among the first %d) not kept", p, views.PathsCap)
		}
	}
	if all.Len() != n {
		t.Errorf("a merging state holds %d paths, want all %d", all.Len(), n)
	}
}
