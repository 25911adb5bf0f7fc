package serving

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkHeldPerHour prints the Go heap serving holds per hour of
// history once a refresh has published it (benchDay: 1-minute panes of
// the complete hours held encoded in spill files, as under `up`; hour,
// quarter and day blocks decoded; 600 events a minute), the figure that
// grows with the history it holds: a week's is 168 times it. It is
// measured over 6 hours and 12 so that what does not grow cancels out.
//
//	go test ./serving/ -run '^$' -bench HeldPerHour -benchtime 1x
func BenchmarkHeldPerHour(b *testing.B) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	var perHour float64
	for range b.N {
		held := map[int]uint64{}
		for _, hours := range []int{6, 12} {
			srv, err := New(testDB(b), Now(func() time.Time { return end }), SpillDir(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			before := heap()
			sn := benchDay(b, srv, end.Add(-time.Duration(hours)*time.Hour), end)
			held[hours] = heap() - before
			runtime.KeepAlive(sn)
		}
		perHour = float64(held[12]-held[6]) / 6
	}
	b.ReportMetric(perHour/(1<<20), "MiB/hour")
	b.ReportMetric(perHour*168/(1<<20), "MiB/week")
}
