package batch

import (
	"testing"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
)

func TestComplete(t *testing.T) {
	h := base // 07:00; end 08:00, lateness 2m, grace 5m
	tests := []struct {
		name    string
		now     time.Time
		maxTime []time.Time // per partition; zero: no timed data
		quiet   []bool      // per partition, when given
		want    bool
	}{
		{"all partitions past end+lateness, clock past end+grace", base.Add(65*time.Minute + time.Second), []time.Time{base.Add(62 * time.Minute), base.Add(3 * time.Hour)}, nil, true},
		{"clock before end+grace", base.Add(65 * time.Minute), []time.Time{base.Add(3 * time.Hour)}, nil, false},
		{"one partition behind", base.Add(3 * time.Hour), []time.Time{base.Add(3 * time.Hour), base.Add(61 * time.Minute)}, nil, false},
		{"empty partition does not block", base.Add(3 * time.Hour), []time.Time{base.Add(3 * time.Hour), {}}, nil, true},
		{"quiet partition behind does not block", base.Add(3 * time.Hour), []time.Time{base.Add(3 * time.Hour), base.Add(61 * time.Minute)}, []bool{false, true}, true},
		{"quiet partition does not beat the clock", base.Add(65 * time.Minute), []time.Time{base.Add(61 * time.Minute)}, []bool{true}, false},
	}
	for _, tc := range tests {
		b := &Batch{cfg: defaultCfg()}
		m := lake.NewManifest("logs")
		for p, mt := range tc.maxTime {
			m.Partition(int32(p)).MaxEventTime = mt
			if p < len(tc.quiet) && tc.quiet[p] {
				m.Partition(int32(p)).Quiet = tc.now
			}
		}
		if got := b.complete(m, h, tc.now); got != tc.want {
			t.Errorf("%s: complete = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestHorizonStopsAtFirstHourNotRecomputed(t *testing.T) {
	b := &Batch{cfg: defaultCfg()}
	m := lake.NewManifest("logs")
	m.Partition(0).MaxEventTime = base.Add(10 * time.Hour)
	now := base.Add(11 * time.Hour)
	// Files in 07, 08 and 10; 09 has none. 07, 08 recomputed (08 dirty).
	for _, h := range []int{0, 1, 3} {
		m.AddFiles(lake.File{Path: lake.FilePath(base.Add(time.Duration(h)*time.Hour), 0, int64(h), int64(h)), Hour: base.Add(time.Duration(h) * time.Hour)})
	}
	m.Hour(base).Recomputed = now
	m.Hour(base.Add(time.Hour)).Recomputed = now
	m.Hour(base.Add(time.Hour)).Dirty = true
	// 09 is empty and complete, so the run continues to 10, which is not
	// recomputed.
	if got, want := b.horizon(m, now), base.Add(3*time.Hour); !got.Equal(want) {
		t.Errorf("horizon %s, want %s", got, want)
	}
	if got := b.horizon(lake.NewManifest("logs"), now); !got.IsZero() {
		t.Errorf("empty lake: horizon %s, want zero", got)
	}
}
