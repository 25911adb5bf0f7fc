package views

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/axiomhq/hyperloglog"
)

// The binary encodings start with a version byte so that stored documents
// can be read after the format changes.
const (
	hotVersion = 1
	// trafficVersion 2 stores the sketches as zero runs when shorter
	// (zeroruns.go); version 1 states are still read.
	trafficVersion = 2
)

func errUnknownView(view string) error { return fmt.Errorf("unknown view %q", view) }

// MarshalBinary encodes the summary: version, capacity, floor, then the
// terms in sorted order (so equal states encode to equal bytes) with their
// counts and errors, all as varints.
func (h *Hot) MarshalBinary() ([]byte, error) {
	terms := make([]string, 0, len(h.counts))
	for t := range h.counts {
		terms = append(terms, t)
	}
	sort.Strings(terms)
	b := []byte{hotVersion}
	b = binary.AppendUvarint(b, uint64(h.capacity))
	b = binary.AppendUvarint(b, uint64(h.floor))
	b = binary.AppendUvarint(b, uint64(len(terms)))
	for _, t := range terms {
		b = appendBlob(b, t)
		c := h.counts[t]
		b = binary.AppendUvarint(b, uint64(c.n))
		b = binary.AppendUvarint(b, uint64(c.err))
	}
	return b, nil
}

// UnmarshalBinary replaces h by the decoded summary.
func (h *Hot) UnmarshalBinary(data []byte) error {
	r, _, err := openState("hot", data, hotVersion, hotVersion)
	if err != nil {
		return err
	}
	capacity, floor := r.uvarint(), r.uvarint()
	n := r.count("term")
	nh := NewHot(int(capacity))
	nh.floor = int64(floor)
	var slab countSlab
	for i := uint64(0); i < n && r.err == nil; i++ {
		t := r.str()
		c, e := r.uvarint(), r.uvarint()
		nh.counts[t] = slab.new(termCount{n: int64(c), err: int64(e)})
	}
	if err := r.done(); err != nil {
		return err
	}
	*h = *nh
	return nil
}

// MarshalBinary encodes the traffic state: counters as varints, then both
// sketches in their own binary form.
func (t *Traffic) MarshalBinary() ([]byte, error) {
	b := t.appendCounters([]byte{trafficVersion})
	for _, sk := range []*hyperloglog.Sketch{t.UV, t.IPs} {
		enc, err := sk.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("traffic state: encode sketch: %w", err)
		}
		b = appendSketch(b, enc)
	}
	return b, nil
}

// appendCounters appends the counters of the encoding (every version's
// the same) to b.
func (t *Traffic) appendCounters(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(t.PV))
	exact := uint64(0)
	if t.HasExact {
		exact = 1
	}
	b = binary.AppendUvarint(b, exact)
	b = binary.AppendUvarint(b, uint64(t.ExactUV))
	b = binary.AppendUvarint(b, uint64(t.ExactIPs))
	for _, s := range t.Status {
		b = binary.AppendUvarint(b, uint64(s))
	}
	b = binary.AppendUvarint(b, uint64(t.Bytes))
	b = binary.AppendUvarint(b, uint64(len(t.Latency)))
	for _, l := range t.Latency {
		b = binary.AppendUvarint(b, uint64(l))
	}
	return appendFloat(b, t.LatencySum)
}

// UnmarshalBinary replaces t by the decoded state.
func (t *Traffic) UnmarshalBinary(data []byte) error {
	r, v, err := openState("traffic", data, 1, trafficVersion)
	if err != nil {
		return err
	}
	nt := NewTraffic()
	nt.PV = int64(r.uvarint())
	nt.HasExact = r.uvarint() == 1
	nt.ExactUV, nt.ExactIPs = int64(r.uvarint()), int64(r.uvarint())
	for i := range nt.Status {
		nt.Status[i] = int64(r.uvarint())
	}
	nt.Bytes = int64(r.uvarint())
	if n := r.uvarint(); r.err == nil && n != uint64(len(nt.Latency)) {
		return fmt.Errorf("traffic state: %d latency buckets, want %d", n, len(nt.Latency))
	}
	for i := range nt.Latency {
		nt.Latency[i] = int64(r.uvarint())
	}
	nt.LatencySum = r.float()
	for _, sk := range []*hyperloglog.Sketch{nt.UV, nt.IPs} {
		var enc []byte
		if v == 1 {
			enc = r.blob()
		} else {
			var err error
			if enc, err = r.sketch(); err != nil && r.err == nil {
				return fmt.Errorf("traffic state: %w", err)
			}
		}
		if r.err != nil {
			break
		}
		if err := sk.UnmarshalBinary(enc); err != nil {
			return fmt.Errorf("traffic state: decode sketch: %w", err)
		}
	}
	if err := r.done(); err != nil {
		return err
	}
	*t = *nt
	return nil
}

// appendBlob appends s with its length first, as reader.str and
// reader.blob read it.
func appendBlob[S ~string | ~[]byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendFloat appends v as 8 little-endian bytes, as reader.float reads
// it.
func appendFloat(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// reader reads varints and byte strings, remembering the first error so
// that decoders check once at the end (done).
type reader struct {
	b   []byte
	err error
	// view names the state in done's error.
	view string
}

var errShort = errors.New("truncated data")

// openState reads the version byte that starts the encoded state of view
// and returns a reader over the rest; versions from oldest to current are
// read, others are an error.
func openState(view string, data []byte, oldest, current byte) (*reader, byte, error) {
	r := &reader{b: data, view: view}
	v := r.byte()
	if v < oldest || v > current {
		want := strconv.Itoa(int(current))
		if oldest < current {
			want = fmt.Sprintf("%d to %d", oldest, current)
		}
		return nil, v, fmt.Errorf("%s state: version %d, want %s", view, v, want)
	}
	return r, v, nil
}

// done returns the first error met, naming the state, or nil.
func (r *reader) done() error {
	if r.err != nil {
		return fmt.Errorf("%s state: %w", r.view, r.err)
	}
	return nil
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }

func (r *reader) varint() int64 { return readVarint(r, binary.Varint) }

// readVarint reads one varint with read (binary.Uvarint or binary.Varint).
func readVarint[T uint64 | int64](r *reader, read func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := read(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads the number of the items that follow, each of at least one
// byte: a number larger than the bytes left is corrupt data, caught before
// anything is allocated for it.
func (r *reader) count(what string) uint64 {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)) {
		r.err = fmt.Errorf("%s count %d larger than the %d bytes left", what, n, len(r.b))
		return 0
	}
	return n
}

func (r *reader) bytes(n uint64) []byte {
	if r.err != nil || n > uint64(len(r.b)) {
		if r.err == nil {
			r.err = errShort
		}
		return make([]byte, 8)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// blob reads what appendBlob wrote.
func (r *reader) blob() []byte { return r.bytes(r.uvarint()) }

// str reads what appendBlob wrote, as a string.
func (r *reader) str() string { return string(r.blob()) }

// float reads what appendFloat wrote.
func (r *reader) float() float64 {
	return math.Float64frombits(binary.LittleEndian.Uint64(r.bytes(8)))
}
