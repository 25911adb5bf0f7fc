package batch

import (
	"sync/atomic"

	"github.com/klauspost/compress/s2"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fetchPool gives compaction's Kafka client back the memory of records
// already written: the decompressed batches and the Record slices they
// are decoded into (kgo.WithPools). Without it every fetched batch is new
// garbage, about 0.4 KB a demo line (a third of what a compaction
// allocated, the embedded broker's responses included), and the
// collector's cost grows with it: in up, where speed's state keeps the heap near its soft
// limit, the collector took about 40 % of the process's CPU during the
// first compaction of a 24 h backfill.
//
// A batch's memory comes back when every one of its records was
// recycled (kgo.Record.Recycle): by the writer once the record's row is
// in its file's column buffers (shard.write), by fetch for the records
// it does not hand on. A record never recycled (a failed run) is left to
// the collector. A new slice is made only when none is free, so the
// free lists hold at most as many slices as the run had batches in
// flight at once (memory it held anyway: at most 54-62 batches in
// BenchmarkCompact); poolSlices only bounds them.
type fetchPool struct {
	bytes chan []byte
	recs  chan []kgo.Record
	// maxBytes and maxRecs are the largest batch met: new slices get
	// that capacity, so that a free one fits any batch and none is
	// dropped for being a little short.
	maxBytes, maxRecs atomic.Int64
}

// poolSlices bounds each free list.
const poolSlices = 1024

func newFetchPool() *fetchPool {
	return &fetchPool{bytes: make(chan []byte, poolSlices), recs: make(chan []kgo.Record, poolSlices)}
}

// decompressGuess is the decompressed size guessed per byte of a
// compressed batch whose codec does not say it (Snappy's does): the
// demo's lines come back about 3.3 times larger.
const decompressGuess = 4

// GetDecompressBytes returns a free buffer large enough for the batch, or
// a new one of the largest batch's size; a codec that needs more than the
// guess allocates its own, which is what comes back to the pool.
func (p *fetchPool) GetDecompressBytes(compressed []byte, codec kgo.CompressionCodecType) []byte {
	need := decompressGuess * len(compressed)
	if codec == kgo.CodecSnappy {
		if n, err := s2.DecodedLen(compressed); err == nil {
			need = n // the xerial framing fails here and keeps the guess
		}
	}
	select {
	case b := <-p.bytes:
		if cap(b) >= need {
			return b[:0]
		}
	default:
	}
	return make([]byte, 0, highWater(&p.maxBytes, need))
}

// PutDecompressBytes keeps b (kgo zeroed its used part) if there is room.
func (p *fetchPool) PutDecompressBytes(b []byte) {
	select {
	case p.bytes <- b:
	default:
	}
}

// GetRecords returns a free slice of at least n records, or a new one.
func (p *fetchPool) GetRecords(n int) []kgo.Record {
	select {
	case rs := <-p.recs:
		if cap(rs) >= n {
			return rs[:n]
		}
	default:
	}
	return make([]kgo.Record, n, highWater(&p.maxRecs, n))
}

// highWater raises max to n and returns it.
func highWater(max *atomic.Int64, n int) int {
	for {
		m := max.Load()
		if int64(n) <= m {
			return int(m)
		}
		if max.CompareAndSwap(m, int64(n)) {
			return n
		}
	}
}

// PutRecords keeps rs (kgo zeroed its records) if there is room.
func (p *fetchPool) PutRecords(rs []kgo.Record) {
	select {
	case p.recs <- rs:
	default:
	}
}
