package batch

import (
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestFetchPoolClasses: a slice from the pool always holds what was
// asked, a returned slice is handed out again for a batch of its class
// (or the class below), and a new one is at most twice the need.
func TestFetchPoolClasses(t *testing.T) {
	for _, need := range []int{0, 1, 1000, minPoolBytes - 1, minPoolBytes, minPoolBytes + 1, 155_000, 1_043_109, minPoolBytes << (poolClasses - 1), 5 << 20} {
		p := newFetchPool()
		src := make([]byte, need)
		compressed := s2.EncodeSnappy(nil, src)
		b := p.GetDecompressBytes(compressed, kgo.CodecSnappy)
		if cap(b) < need || len(b) != 0 {
			t.Fatalf("need %d: got len %d cap %d", need, len(b), cap(b))
		}
		if need > minPoolBytes && cap(b) >= 2*need {
			t.Errorf("need %d: new buffer of %d bytes", need, cap(b))
		}
		p.PutDecompressBytes(b[:need])
		again := p.GetDecompressBytes(compressed, kgo.CodecSnappy)
		reused := cap(again) > 0 && &again[:1][0] == &b[:1][0]
		if pooled := need <= minPoolBytes<<(poolClasses-1); reused != pooled {
			t.Errorf("need %d: reused %v, want %v", need, reused, pooled)
		}
		// A smaller batch of the class below takes it too.
		p.PutDecompressBytes(again)
		if need > 2*minPoolBytes && need <= minPoolBytes<<(poolClasses-1) {
			small := p.GetDecompressBytes(s2.EncodeSnappy(nil, src[:need/2]), kgo.CodecSnappy)
			if &small[:1][0] != &b[:1][0] {
				t.Errorf("need %d: a batch of half the size got a new buffer", need)
			}
		}
	}
	for _, n := range []int{1, minPoolRecords, minPoolRecords + 1, 4867, 100_000} {
		p := newFetchPool()
		rs := p.GetRecords(n)
		if len(rs) != n || (n > minPoolRecords && cap(rs) >= 2*n) {
			t.Fatalf("%d records: len %d cap %d", n, len(rs), cap(rs))
		}
		p.PutRecords(rs)
		again := p.GetRecords(n)
		if len(again) != n {
			t.Fatalf("%d records: len %d", n, len(again))
		}
		if pooled := n <= minPoolRecords<<(poolClasses-1); (&again[0] == &rs[0]) != pooled {
			t.Errorf("%d records: reused %v, want %v", n, &again[0] == &rs[0], pooled)
		}
	}
}
