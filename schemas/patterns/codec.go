package patterns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Merge adds the patterns of other into m, as if m had also seen other's
// messages: a pattern with the same ID adds its count; another pattern
// joins the pattern of m it fits (by the rules of Add, applied to its
// template) or is added. other is not changed.
//
// other's patterns are taken most frequent first, ties by ID, so the
// result does not depend on other's internal order. Counts always add up;
// when both sides hold the same templates the result is the same whichever
// side is merged into which, so partial states of partitions and panes can
// be combined in any order.
func (m *Miner) Merge(other *Miner) {
	ps := other.snapshot()
	for _, c := range ps {
		m.mergeCluster(c)
	}
}

// snapshot returns copies of the live clusters in merge order.
func (m *Miner) snapshot() []cluster {
	cs := make([]cluster, 0, m.live)
	for i := range m.clusters {
		if m.clusters[i].live {
			c := m.clusters[i]
			c.units = slices.Clone(c.units)
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b cluster) int {
		if a.count != b.count {
			return cmpU(b.count, a.count)
		}
		return cmpU(uint64(a.id), uint64(b.id))
	})
	return cs
}

// mergeCluster adds one pattern of another miner.
func (m *Miner) mergeCluster(c cluster) {
	m.tick++
	if ci, ok := m.byID[c.id]; ok {
		m.clusters[ci].count += c.count
		m.clusters[ci].last = m.tick
		return
	}
	m.place(c.units, c.count, []byte(c.example))
}

// Binary layout (all integers unsigned varints):
//
//	"LLPT" 0x01                magic and version
//	n                          number of patterns
//	n times:
//	  count                    messages in the pattern
//	  units                    number of units, then per unit:
//	    kind                   0 constant, 1 <*>, 2 key=<*>, 3 <*> with punctuation ("(<*>)"),
//	                           4 a variable that shows its one numbered name ("ssh2")
//	    len, bytes             the text (not for <*>)
//	    len, bytes             the name (only for 4)
//	  len, bytes               the example message
//
// The ID is not stored: it is the hash of the template and is recomputed.
const codecMagic = "LLPT\x01"

// codecVarText is the unit kind of a variable with punctuation around it
// in the binary layout; in memory it is a uVar with text. Version 1 data
// written before it existed has none and decodes as before.
const codecVarText = 3

// codecVarLit is the unit kind of a variable that shows a numbered name
// (unit.lit): its text, then the name.
const codecVarLit = 4

// MarshalBinary encodes the patterns (templates, counts, examples) in a
// compact form, most frequent first, for the patterns view in MongoDB. The
// key cache and options are not part of it.
func (m *Miner) MarshalBinary() ([]byte, error) {
	cs := m.snapshot()
	b := make([]byte, 0, 64*len(cs))
	b = append(b, codecMagic...)
	b = binary.AppendUvarint(b, uint64(len(cs)))
	for _, c := range cs {
		b = binary.AppendUvarint(b, c.count)
		b = appendPattern(b, &c)
	}
	return b, nil
}

// appendPattern appends what a pattern is: its units (their number, then
// each as appendUnit writes it) and its example. MarshalBinary and
// MarshalSnapshot share it.
func appendPattern(b []byte, c *cluster) []byte {
	b = binary.AppendUvarint(b, uint64(len(c.units)))
	for _, u := range c.units {
		b = appendUnit(b, u)
	}
	return appendString(b, c.example)
}

// pattern reads what appendPattern wrote into c; an error names it as
// the i-th of place.
func (d *decoder) pattern(c *cluster, place string, i uint64) {
	nu := d.uvarint()
	if nu > uint64(len(d.b)) { // each unit takes at least a byte
		d.fail("%s %d: %d units in %d bytes", place, i, nu, len(d.b))
		return
	}
	c.units = make([]unit, nu)
	for k := range c.units {
		c.units[k] = d.unit()
	}
	c.example = d.str()
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendUnit encodes one unit: its kind byte (codecVarText or codecVarLit
// for a variable with text), then its text and name as the kind needs.
// MarshalBinary and MarshalSnapshot share it.
func appendUnit(b []byte, u unit) []byte {
	kind := u.kind
	if kind == uVar && u.lit != "" {
		kind = codecVarLit
	} else if kind == uVar && u.text != "" {
		kind = codecVarText
	}
	b = append(b, kind)
	if kind != uVar {
		b = appendString(b, u.text)
	}
	if kind == codecVarLit {
		b = appendString(b, u.lit)
	}
	return b
}

// unit decodes one unit written by appendUnit.
func (d *decoder) unit() unit {
	kind := d.byte()
	if d.err != nil {
		return unit{}
	}
	if kind > codecVarLit {
		d.fail("unit kind %d", kind)
		return unit{}
	}
	u := unit{kind: kind}
	if kind != uVar {
		u.text = d.str()
	}
	if kind == codecVarLit {
		u.lit = d.str()
	}
	if kind == codecVarText || kind == codecVarLit {
		u.kind = uVar
	}
	return u
}

// errCorrupt is wrapped by every decoding error.
var errCorrupt = errors.New("corrupt pattern set")

// UnmarshalBinary replaces the patterns of m with those encoded by
// MarshalBinary; m keeps its options. Patterns beyond MaxPatterns are
// evicted as in Add.
func (m *Miner) UnmarshalBinary(data []byte) error {
	if !strings.HasPrefix(string(data[:min(len(data), len(codecMagic))]), codecMagic) {
		return fmt.Errorf("decode patterns: %w: bad magic or version", errCorrupt)
	}
	d := decoder{b: data[len(codecMagic):]}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) { // each pattern takes at least 3 bytes
		d.fail("%d patterns in %d bytes", n, len(d.b))
	}
	var cs []cluster
	for i := uint64(0); i < n && d.err == nil; i++ {
		var c cluster
		c.count = d.uvarint()
		d.pattern(&c, "pattern", i)
		cs = append(cs, c)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the last pattern", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("decode patterns: %w", d.err)
	}
	m.reset()
	for _, c := range cs {
		c.id = TemplateID(templateText(c.units))
		m.mergeCluster(c)
	}
	return nil
}

// decoder reads the binary layout, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() uint8 {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail("string of %d bytes in %d", n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
