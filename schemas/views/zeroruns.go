package views

import (
	"encoding/binary"
	"fmt"
)

// A dense HyperLogLog sketch (precision 14) is 2^14 four-bit registers,
// 8 KiB, and a pane of a partition seldom fills more than a tenth of
// them: the demo's traffic documents were 17 KiB of mostly zero bytes.
// On the embedded store a document costs in proportion to its size (it is
// stored as JSON text, binary as base64, and parsed again for every index
// on every write), so traffic states of version 2 store each sketch as
// zero runs when that is shorter: the length, then pairs of (number of
// zero bytes, the next byte), as varints and bytes. It is exact and
// independent of the sketch's format; sparse sketches, which have few
// zeros, stay as they are.

// Sketch encodings in a version 2 traffic state.
const (
	sketchRaw      = 0
	sketchZeroRuns = 1
)

// appendSketch appends enc, as zero runs when that is shorter, with its
// encoding byte and length.
func appendSketch(b, enc []byte) []byte {
	zr := appendZeroRuns(nil, enc)
	kind, body := byte(sketchRaw), enc
	if len(zr) < len(enc) {
		kind, body = sketchZeroRuns, zr
	}
	return appendBlob(append(b, kind), body)
}

// readSketch reads what appendSketch wrote and returns the sketch's own
// encoding.
func (r *reader) sketch() ([]byte, error) {
	kind := r.byte()
	body := r.blob()
	if r.err != nil {
		return nil, r.err
	}
	switch kind {
	case sketchRaw:
		return body, nil
	case sketchZeroRuns:
		return zeroRuns(body)
	}
	return nil, fmt.Errorf("sketch encoding %d unknown", kind)
}

// appendZeroRuns appends the zero-run form of src to b.
func appendZeroRuns(b, src []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(src)))
	for i := 0; i < len(src); {
		z := 0
		for i+z < len(src) && src[i+z] == 0 {
			z++
		}
		b = binary.AppendUvarint(b, uint64(z))
		i += z
		if i < len(src) {
			b = append(b, src[i])
			i++
		}
	}
	return b
}

// maxSketchBytes bounds a decoded sketch (a dense p=14 sketch is about
// 8 KiB), so a corrupt length cannot allocate without limit.
const maxSketchBytes = 1 << 20

// zeroRuns decodes appendZeroRuns's form.
func zeroRuns(src []byte) ([]byte, error) {
	r := reader{b: src}
	n := r.uvarint()
	if r.err != nil || n > maxSketchBytes {
		return nil, fmt.Errorf("zero runs: length %d: %v", n, r.err)
	}
	out := make([]byte, 0, n)
	for uint64(len(out)) < n {
		z := r.uvarint()
		if r.err != nil || z > n-uint64(len(out)) {
			return nil, fmt.Errorf("zero runs: run of %d zeros past the length %d", z, n)
		}
		out = append(out, make([]byte, z)...)
		if uint64(len(out)) < n {
			out = append(out, r.byte())
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("zero runs: %w", r.err)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("zero runs: %d bytes after the end", len(r.b))
	}
	return out, nil
}
