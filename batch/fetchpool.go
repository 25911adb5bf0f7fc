package batch

import (
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
// the collector.
//
// Slices are kept by size class (powers of two), and a new one is made
// at its class's size: batches differ in size (the demo's, read from
// up's broker during a 24 h backfill, 155 KB decompressed on average
// and up to 1 MB), and one free list whose new slices took the largest
// batch's size allocated 188 MB for the first 1,805 batches where they
// needed 280 MB in all, and held as much in flight. A class's free list
// holds at most poolSlices; a batch larger than the largest class gets
// a slice of its own, not kept.
type fetchPool struct {
	bytes [poolClasses]chan []byte
	recs  [poolClasses]chan []kgo.Record
}

const (
	// poolClasses size classes: bytes from minPoolBytes, records from
	// minPoolRecords, doubling.
	poolClasses    = 8
	minPoolBytes   = 32 << 10
	minPoolRecords = 128
	// poolSlices bounds each free list.
	poolSlices = 256
)

func newFetchPool() *fetchPool {
	p := &fetchPool{}
	for c := range poolClasses {
		p.bytes[c] = make(chan []byte, poolSlices)
		p.recs[c] = make(chan []kgo.Record, poolSlices)
	}
	return p
}

// classFor is the smallest class whose size (min << class) holds n, or
// poolClasses when none does.
func classFor(n, min int) int {
	c := 0
	for c < poolClasses && min<<c < n {
		c++
	}
	return c
}

// classOf is the largest class whose size a slice of capacity n holds
// (every slice in class c has a capacity of at least min << c), or -1.
func classOf(n, min int) int {
	c := -1
	for c+1 < poolClasses && min<<(c+1) <= n {
		c++
	}
	return c
}

// decompressGuess is the decompressed size guessed per byte of a
// compressed batch whose codec does not say it (Snappy's does): the
// demo's lines come back about 3.3 times larger.
const decompressGuess = 4

// GetDecompressBytes returns a free buffer large enough for the batch
// (of its size class or the next), or a new one of its class's size; a
// codec that needs more than the guess allocates its own, which is what
// comes back to the pool.
func (p *fetchPool) GetDecompressBytes(compressed []byte, codec kgo.CompressionCodecType) []byte {
	need := decompressGuess * len(compressed)
	if codec == kgo.CodecSnappy {
		if n, err := s2.DecodedLen(compressed); err == nil {
			need = n // the xerial framing fails here and keeps the guess
		}
	}
	c := classFor(need, minPoolBytes)
	if c == poolClasses {
		return make([]byte, 0, need)
	}
	for _, cc := range []int{c, c + 1} {
		if cc == poolClasses {
			break
		}
		select {
		case b := <-p.bytes[cc]:
			return b[:0]
		default:
		}
	}
	return make([]byte, 0, minPoolBytes<<c)
}

// PutDecompressBytes keeps b (kgo zeroed its used part) in its class if
// there is room.
func (p *fetchPool) PutDecompressBytes(b []byte) {
	if c := classOf(cap(b), minPoolBytes); c >= 0 {
		select {
		case p.bytes[c] <- b:
		default:
		}
	}
}

// GetRecords returns a free slice of at least n records (of n's size
// class or the next), or a new one of the class's size.
func (p *fetchPool) GetRecords(n int) []kgo.Record {
	c := classFor(n, minPoolRecords)
	if c == poolClasses {
		return make([]kgo.Record, n)
	}
	for _, cc := range []int{c, c + 1} {
		if cc == poolClasses {
			break
		}
		select {
		case rs := <-p.recs[cc]:
			return rs[:n]
		default:
		}
	}
	return make([]kgo.Record, n, minPoolRecords<<c)
}

// PutRecords keeps rs (kgo zeroed its records) in its class if there is
// room.
func (p *fetchPool) PutRecords(rs []kgo.Record) {
	if c := classOf(cap(rs), minPoolRecords); c >= 0 {
		select {
		case p.recs[c] <- rs:
		default:
		}
	}
}
