package views

import (
	"encoding/binary"
	"math"

	"github.com/axiomhq/hyperloglog"
)

// hllP is the precision of every traffic sketch (NewTraffic,
// NewMergeTraffic), and hllM its number of registers.
const (
	hllP = 14
	hllM = 1 << hllP
)

// TrafficCounter counts what a merge of traffic states would count (PV,
// UV, IPs: Traffic.Merge into NewMergeTraffic, then UVCount and IPCount),
// with the same figures, at a fraction of the cost: a serving bucket of a
// series (15 one-minute panes for step=15m, 96 such buckets in a day)
// spent most of its time in the sketch library's estimate, which takes
// math.Pow of each of the 2^14 registers, and in its byte-by-byte register
// merge. Here dense registers are merged eight at a time and the estimate
// sums a table of the same powers of two in the same order, so the result
// is the library's to the last bit (TestTrafficCounterMatchesMerge).
//
// The zero value is ready; Reset makes it empty again without
// reallocating.
type TrafficCounter struct {
	pv                int64
	exactUV, exactIPs int64
	hasExact          bool
	uv, ips           hllRegs
}

// hllRegs is the union of sketches as dense registers. A sparse sketch is
// merged by the library into spill (dense), read back at the end.
type hllRegs struct {
	regs  *[hllM]uint8
	spill *hyperloglog.Sketch
	buf   []byte
}

// Reset empties c.
func (c *TrafficCounter) Reset() {
	c.pv, c.exactUV, c.exactIPs, c.hasExact = 0, 0, 0, false
	c.uv.reset()
	c.ips.reset()
}

// Add merges t in, as Traffic.Merge does.
func (c *TrafficCounter) Add(t *Traffic) { c.AddPrepared(t, nil) }

// AddPrepared is Add with r, t's PrepareTraffic (or nil): a sparse sketch
// is merged from its prepared registers rather than decoded again, and t
// may be nil when r is Whole (its figures are then r's).
func (c *TrafficCounter) AddPrepared(t *Traffic, r *TrafficRegs) {
	if r == nil {
		if t == nil {
			return
		}
		r = &TrafficRegs{pv: t.PV, exactUV: t.ExactUV, exactIPs: t.ExactIPs, hasExact: t.HasExact}
	}
	c.exactUV, c.exactIPs, c.hasExact = mergeExact(c.pv, c.exactUV, c.exactIPs, c.hasExact, r.pv, r.exactUV, r.exactIPs, r.hasExact)
	c.pv += r.pv
	switch {
	case r.uvReady:
		c.uv.mergePairs(r.uv)
	case t != nil:
		c.uv.merge(t.UV)
	}
	switch {
	case r.ipsReady:
		c.ips.mergePairs(r.ips)
	case t != nil:
		c.ips.merge(t.IPs)
	}
}

// TrafficRegs is what a TrafficCounter reads of a traffic state, kept
// apart from it: PV, the exact distinct counts, and the non-zero
// registers of its sparse sketches, as index<<8 | value. Merging a sparse
// sketch through the library decodes every hash of its list (16 ns each),
// and a one-minute pane of a few hundred visitors is merged by every
// question over it; and a state whose sketches are both sparse (Whole) is
// counted without the state, which serving holds encoded for a sealed
// pane and would otherwise decode for every bucket that reads it. Dense
// sketches are read from the state as they are (not prepared here).
type TrafficRegs struct {
	pv, exactUV, exactIPs int64
	hasExact              bool
	// uvReady and ipsReady are set when uv and ips hold the sketch's
	// registers (a sketch that is nil has none).
	uvReady, ipsReady bool
	uv, ips           []uint32
}

// PrepareTraffic returns t's TrafficRegs (nil when t is nil). t is not
// changed.
func PrepareTraffic(t *Traffic) *TrafficRegs {
	if t == nil {
		return nil
	}
	var buf []byte
	r := &TrafficRegs{pv: t.PV, exactUV: t.ExactUV, exactIPs: t.ExactIPs, hasExact: t.HasExact}
	r.uv, r.uvReady, buf = sparsePairs(t.UV, buf)
	r.ips, r.ipsReady, _ = sparsePairs(t.IPs, buf)
	return r
}

// Whole reports whether r alone counts its state: both sketches prepared.
func (r *TrafficRegs) Whole() bool { return r != nil && r.uvReady && r.ipsReady }

// PV is the state's page views.
func (r *TrafficRegs) PV() int64 { return r.pv }

// maxPairs bounds the prepared registers of a sketch: past it, they would
// take more memory than the dense registers (4 bytes each), and the
// sketch is merged as it is.
const maxPairs = hllM / 4

// sparsePairs returns sk's non-zero registers and true when sk is nil
// (none) or sparse (its library encoding says so) with at most maxPairs of
// them, else nil and false.
func sparsePairs(sk *hyperloglog.Sketch, buf []byte) ([]uint32, bool, []byte) {
	if sk == nil {
		return nil, true, buf
	}
	buf, err := sk.AppendBinary(buf[:0])
	if err != nil || len(buf) < denseHeader || buf[1] != hllP || buf[3] != 1 {
		return nil, false, buf
	}
	d := hyperloglog.NewNoSparse()
	if d.Merge(sk) != nil {
		return nil, false, buf
	}
	if buf, err = d.AppendBinary(buf[:0]); err != nil || len(buf) != denseHeader+hllM {
		return nil, false, buf
	}
	pairs := []uint32{}
	for i, v := range buf[denseHeader:] {
		if v != 0 {
			if len(pairs) == maxPairs {
				return nil, false, buf
			}
			pairs = append(pairs, uint32(i)<<8|uint32(v))
		}
	}
	return pairs, true, buf
}

// Counts returns PV, UV and IPs of everything added: the exact distinct
// counts when a single non-empty state carrying them was added, else the
// estimates of the merged sketches.
func (c *TrafficCounter) Counts() (pv, uv, ips int64) {
	if c.hasExact {
		return c.pv, c.exactUV, c.exactIPs
	}
	return c.pv, c.uv.estimate(), c.ips.estimate()
}

func (h *hllRegs) reset() {
	if h.regs != nil {
		clear(h.regs[:])
	}
	h.spill = nil
}

func (h *hllRegs) mergePairs(pairs []uint32) {
	if h.regs == nil {
		h.regs = new([hllM]uint8)
	}
	for _, e := range pairs {
		i, v := e>>8, uint8(e)
		h.regs[i&(hllM-1)] = max(h.regs[i&(hllM-1)], v)
	}
}

// denseHeader is the length of the library's dense encoding before its
// registers (version, p, b, sparse flag, 4-byte register count), whose
// registers are then one byte each (AppendBinary).
const denseHeader = 8

func (h *hllRegs) merge(sk *hyperloglog.Sketch) {
	if sk == nil {
		return
	}
	if h.regs == nil {
		h.regs = new([hllM]uint8)
	}
	var err error
	h.buf, err = sk.AppendBinary(h.buf[:0])
	if err != nil {
		return // an uninitialized sketch: nothing in it (Merge does the same)
	}
	if len(h.buf) != denseHeader+hllM || h.buf[1] != hllP || h.buf[3] != 0 {
		if h.spill == nil {
			h.spill = hyperloglog.NewNoSparse()
		}
		_ = h.spill.Merge(sk) // errors only on precision mismatch, as Traffic.Merge ignores
		return
	}
	maxRegs(h.regs, (*[hllM]uint8)(h.buf[denseHeader:]))
}

// maxRegs sets each dst register to the larger of it and src's, eight at a
// time: registers are at most 64-hllP+1 < 128, so (a|0x80)-b never borrows
// from the next byte and its top bit says a >= b.
func maxRegs(dst, src *[hllM]uint8) {
	const hi = 0x8080808080808080
	for i := 0; i < hllM; i += 8 {
		a := binary.LittleEndian.Uint64(dst[i:])
		b := binary.LittleEndian.Uint64(src[i:])
		if a == b || b == 0 {
			continue
		}
		ge := ((((a | hi) - b) & hi) >> 7) * 0xff // 0xff in each byte where a >= b
		binary.LittleEndian.PutUint64(dst[i:], a&ge|b&^ge)
	}
}

// estimate is hyperloglog's dense Estimate of the union, computed from
// the same sum (of 1/2^v over the registers) and the same bias correction.
// The library adds the 2^14 terms one after the other; here they are
// counted per value first. Both sums are exact, so equal to the bit, as
// long as no register exceeds exactSumMax: every partial sum is then a
// multiple of 2^-exactSumMax below 2^15, which a float64 holds exactly.
// Past it (a register of 39 or more: practically never), the library's
// order is kept.
func (h *hllRegs) estimate() int64 {
	if h.regs == nil {
		h.regs = new([hllM]uint8)
	}
	if h.spill != nil {
		var err error
		if h.buf, err = h.spill.AppendBinary(h.buf[:0]); err == nil && len(h.buf) == denseHeader+hllM {
			maxRegs(h.regs, (*[hllM]uint8)(h.buf[denseHeader:]))
		}
		h.spill = nil
	}
	// Four histograms, so that runs of equal registers do not wait on
	// one counter.
	var hist [4][256]int32
	for i := 0; i < hllM; i += 4 {
		hist[0][h.regs[i]]++
		hist[1][h.regs[i+1]]++
		hist[2][h.regs[i+2]]++
		hist[3][h.regs[i+3]]++
	}
	var sum float64
	top := 0
	for v := range 256 {
		n := hist[0][v] + hist[1][v] + hist[2][v] + hist[3][v]
		if n > 0 {
			top = v
			sum += float64(n) * invPow2[v]
		}
	}
	ez := float64(hist[0][0] + hist[1][0] + hist[2][0] + hist[3][0])
	if top > exactSumMax {
		sum = 0
		for _, v := range h.regs {
			sum += invPow2[v]
		}
	}
	const m = float64(hllM)
	alpha := 0.7213 / (1 + 1.079/m)
	est := alpha * m * (m - ez) / (sum + beta14(ez))
	return int64(uint64(est + 0.5))
}

// exactSumMax is the largest register value for which the sum of 1/2^v
// over the registers is exact in any order (see estimate): 2^14 * 2^38 =
// 2^52 < 2^53.
const exactSumMax = 38

// invPow2[v] is 1/2^v, exactly as 1.0/math.Pow(2.0, float64(v)).
var invPow2 = func() (t [256]float64) {
	for v := range t {
		t[v] = 1.0 / math.Pow(2.0, float64(v))
	}
	return t
}()

// beta14 is the library's bias correction for precision 14 (LogLog-Beta,
// github.com/axiomhq/hyperloglog beta.go, MIT licence), term for term so
// that the float result is the same.
func beta14(ez float64) float64 {
	zl := math.Log(ez + 1)
	return -0.371009760230692*ez +
		0.00978811941207509*zl +
		0.185796293324165*math.Pow(zl, 2) +
		0.203015527328432*math.Pow(zl, 3) +
		-0.116710521803686*math.Pow(zl, 4) +
		0.0431106699492820*math.Pow(zl, 5) +
		-0.00599583540511831*math.Pow(zl, 6) +
		0.000449704299509437*math.Pow(zl, 7)
}
