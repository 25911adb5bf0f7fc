package patterns

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkMine measures inference on each Loghub sample (its 2k messages
// repeated) beside splitting the same messages with strings.Fields, the
// plainest tokenizer and the limit for any tokenizing miner, and beside
// the miner's own split (scratch.split, which cuts without allocating).
// Each reports lines/s (wall time) and lines/cpu-s (the process's CPU
// time, GC included): on a machine shared with other work the second is
// the per-core figure, which wall time understates. mine also reports
// x-of-fields, its lines/cpu-s as a share of the strings.Fields figure
// measured just before in the same run.
//
// The last, all/, runs the 16 samples as one input, one miner per sample
// as a collector keeps one per source, the samples' messages one sample
// after the other: its mine figure is the miner's rate on the 16 samples
// (issue 23.1 asks 2 M lines/cpu-s), printed beside strings.Fields over
// the same lines.
//
//	go test ./schemas/patterns/ -run '^$' -bench Mine -cpu 1 -benchtime 2000000x
func BenchmarkMine(b *testing.B) {
	sets := loadLoghub(b)
	all := make([][][]byte, 0, len(sets))
	for _, ds := range sets {
		msgs := ds.contents(b)
		all = append(all, msgs)
		benchSet(b, ds.name, [][][]byte{msgs})
	}
	benchSet(b, "all", all)
}

// benchSet runs the fields, split and mine benchmarks on sets: one miner
// per set, taking the messages of each set in turn, all of one set before
// the next.
func benchSet(b *testing.B, name string, sets [][][]byte) {
	var at [][2]int // message i of the input: set, index
	for s, msgs := range sets {
		for k := range msgs {
			at = append(at, [2]int{s, k})
		}
	}
	next := func(i int) (int, []byte) {
		a := at[i%len(at)]
		return a[0], sets[a[0]][a[1]]
	}
	var fieldsRate float64
	b.Run(name+"/fields", func(b *testing.B) {
		n := 0
		rate := measure(b, func(i int) {
			_, msg := next(i)
			n += len(strings.Fields(string(msg)))
		})
		fieldsRate = rate
		if n == 0 {
			b.Fatal("no tokens")
		}
	})
	b.Run(name+"/split", func(b *testing.B) {
		var sc scratch
		n := 0
		measure(b, func(i int) {
			_, msg := next(i)
			sc.split(msg)
			n += len(sc.toks)
		})
		if n == 0 {
			b.Fatal("no tokens")
		}
	})
	b.Run(name+"/mine", func(b *testing.B) {
		miners := make([]*Miner, len(sets))
		for k := range miners {
			miners[k] = NewMiner(Options{})
		}
		b.ReportAllocs()
		rate := measure(b, func(i int) {
			s, msg := next(i)
			miners[s].Add(msg)
		})
		if fieldsRate > 0 {
			b.ReportMetric(rate/fieldsRate, "x-of-fields")
		}
	})
}

// measure runs f(0..b.N-1), reports lines/s and lines/cpu-s and returns
// lines/cpu-s (lines/s when the CPU time is not known).
func measure(b *testing.B, f func(i int)) float64 {
	cpu0 := cpuTime()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		f(i)
	}
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	rate := float64(b.N) / wall.Seconds()
	b.ReportMetric(rate, "lines/s")
	if cpu > 0 {
		rate = float64(b.N) / cpu.Seconds()
		b.ReportMetric(rate, "lines/cpu-s")
	}
	return rate
}

// cpuTime is the user and system CPU time used by the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
