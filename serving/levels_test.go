package serving

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
)

type levelsResp struct {
	From, To, Step string
	Instance       *string
	Series         []struct {
		T      string
		Levels map[string]int64
	}
	Total        map[string]map[string]int64
	BatchHorizon *string `json:"batch_horizon"`
	Exact        bool
}

// bucketLevels is level -> count of tr, over one instance or all.
func bucketLevels(tr truth, instance string) map[string]int64 {
	out := map[string]int64{}
	for inst, per := range tr.levels {
		if instance != "" && inst != instance {
			continue
		}
		for level, n := range per {
			out[level] += n
		}
	}
	return out
}

func testLevels(t *testing.T, sc *scenario) {
	batchTruth := func(f, to time.Time) truth { return truthOf(sc.batch, f, to) }
	speedTruth := func(f, to time.Time) truth { return truthOf(sc.speed, f, to) }
	// sc.batch ends and sc.speed starts at the horizon, so their truths
	// over any range are the batch part and the speed part; sc.stale
	// (speed panes behind the horizon) must never count.
	bothTruth := func(f, to time.Time) truth { return truthOf(sc.batch, f, to).add(truthOf(sc.speed, f, to)) }
	cases := []struct {
		name     string
		from, to time.Time
		step     string
		instance string
		truth    func(from, to time.Time) truth
		exact    bool
	}{
		{"batch per pane", t10.Add(30 * time.Minute), horizon, "", "", batchTruth, true},
		{"batch per 15m, one instance", t10, horizon, "15m", "tdb-1", batchTruth, true},
		{"batch, instance from host", t10, horizon, "1h", "tweb", batchTruth, true},
		{"speed per pane", horizon, t13, "1m", "", speedTruth, false},
		{"speed per hour, no instance", horizon, t13, "1h", "-", speedTruth, false},
		{"straddling per 20m", horizon.Add(-time.Hour), t13, "20m", "", bothTruth, false},
		{"straddling, one instance", horizon.Add(-90 * time.Minute), t13, "30m", "tdb-2", bothTruth, false},
		{"unknown instance", t10, t13, "1h", "nosuch", bothTruth, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got levelsResp
			if code := get(t, sc.url, "/v1/levels"+q(c.from, c.to, "step", c.step, "instance", c.instance), &got); code != 200 {
				t.Fatalf("status %d", code)
			}
			step := wantBuckets(t, c.from, c.to, c.step, len(got.Series))
			var sum int64
			for i, pt := range got.Series {
				b := wantBucketAt(t, c.from, step, i, pt.T)
				want := bucketLevels(c.truth(b, b.Add(step)), c.instance)
				if pt.Levels == nil || !maps.Equal(pt.Levels, want) {
					t.Errorf("bucket %s: levels %v, want %v", pt.T, pt.Levels, want)
				}
				for _, n := range pt.Levels {
					sum += n
				}
			}
			want := c.truth(c.from, c.to).levels
			if c.instance != "" {
				want = map[string]map[string]int64{}
				if per := c.truth(c.from, c.to).levels[c.instance]; per != nil {
					want[c.instance] = per
				}
			}
			if got.Total == nil || !reflect.DeepEqual(got.Total, want) {
				t.Errorf("total %v, want %v", got.Total, want)
			}
			if c.instance != "nosuch" && sum == 0 {
				t.Error("no events counted: the case tests nothing")
			}
			for inst := range got.Total {
				if strings.HasPrefix(inst, "stale") {
					t.Errorf("instance %s comes from speed panes before the horizon", inst)
				}
			}
			if got.Exact != c.exact {
				t.Errorf("exact %v, want %v", got.Exact, c.exact)
			}
			if got.BatchHorizon == nil || *got.BatchHorizon != "2026-11-20T12:00:00Z" {
				t.Errorf("batch_horizon %v, want 2026-11-20T12:00:00Z", got.BatchHorizon)
			}
			if (got.Instance != nil) != (c.instance != "") {
				t.Errorf("instance %v, asked %q", got.Instance, c.instance)
			}
		})
	}
}

func testLevelsEmptyBucketsAndAlignment(t *testing.T, sc *scenario) {
	var got levelsResp
	getAligned(t, sc, "/v1/levels", &got)
	for _, pt := range got.Series[:2] {
		if pt.Levels == nil || len(pt.Levels) != 0 {
			t.Errorf("empty bucket %s: levels %v, want {}", pt.T, pt.Levels)
		}
	}
	tr := truthOf(sc.batch, t10, t10.Add(6*time.Minute))
	if want := bucketLevels(tr, ""); !maps.Equal(got.Series[2].Levels, want) {
		t.Errorf("last bucket %v, want %v", got.Series[2].Levels, want)
	}
	if !reflect.DeepEqual(got.Total, tr.levels) {
		t.Errorf("total %v, want %v", got.Total, tr.levels)
	}
}
