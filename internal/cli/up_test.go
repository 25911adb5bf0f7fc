package cli

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestDemoStart(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		marker demoMarker
		have   bool
		want   time.Time
	}{
		{"first start backfills the history", demoMarker{}, false, now.Add(-3 * time.Hour)},
		{"restart continues where it stopped", demoMarker{Last: now.Add(-10 * time.Minute)}, true, now.Add(-10 * time.Minute)},
		{"long stop backfills at most the history", demoMarker{Last: now.Add(-48 * time.Hour)}, true, now.Add(-3 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := demoStart(tt.marker, tt.have, now, 3*time.Hour); !got.Equal(tt.want) {
				t.Fatalf("demoStart = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDemoMarkerRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), demoMarkerFile)
	if _, err := readDemoMarker(path); !errors.Is(err, errNoMarker) {
		t.Fatalf("missing marker: %v, want errNoMarker", err)
	}
	m := demoMarker{Seed: 3, Last: time.Date(2026, 11, 20, 12, 0, 0, 5, time.UTC), Events: 1234}
	if err := m.write(path); err != nil {
		t.Fatal(err)
	}
	got, err := readDemoMarker(path)
	if err != nil || got.Seed != 3 || !got.Last.Equal(m.Last) || got.Events != 1234 {
		t.Fatalf("read back %+v, %v; want %+v", got, err, m)
	}
}
