package views

import (
	"encoding/binary"
	"fmt"
)

// clustersVersion 2 added the grid (level and cells); a version 1 state
// (CluStream's boundary rule, no grid) is read with the default cell and
// keyed again before it takes a point.
const clustersVersion = 2

// MarshalBinary encodes the state: version, spec (fields, max, cell),
// base, missing, the grid level, whether the cells are kept, then every
// micro-cluster in the state's order (its count as a varint, its cell as
// varints when kept, its sums as little-endian float64). The order and
// cells are kept, not recomputed: a decoded state must continue exactly as
// the one encoded.
func (c *Clusters) MarshalBinary() ([]byte, error) {
	d := len(c.spec.Fields)
	b := make([]byte, 0, 32+len(c.mcs)*(10+3*d+8*(6*d+2)))
	b = append(b, clustersVersion)
	b = binary.AppendUvarint(b, uint64(d))
	for _, f := range c.spec.Fields {
		b = appendBlob(b, f)
	}
	b = binary.AppendUvarint(b, uint64(c.spec.Max))
	b = appendFloat(b, c.spec.Cell)
	b = binary.AppendVarint(b, c.Base)
	b = binary.AppendUvarint(b, uint64(c.Missing))
	b = binary.AppendUvarint(b, uint64(c.level))
	keyed := c.keyed && len(c.cells) == len(c.mcs)*d
	b = appendBool(b, keyed)
	b = binary.AppendUvarint(b, uint64(len(c.mcs)))
	for i, m := range c.mcs {
		b = binary.AppendUvarint(b, uint64(m.N))
		if keyed {
			for _, k := range c.cells[i*d : (i+1)*d] {
				b = binary.AppendVarint(b, int64(k))
			}
		}
		for _, s := range [][]float64{m.LS, m.SS, m.RS, m.RSS, m.Min, m.Max} {
			for _, v := range s {
				b = appendFloat(b, v)
			}
		}
		b = appendFloat(b, m.LST)
		b = appendFloat(b, m.SST)
	}
	return b, nil
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// UnmarshalBinary replaces c by the decoded state, spec included. Corrupt
// or truncated data gives an error and leaves c unchanged.
func (c *Clusters) UnmarshalBinary(data []byte) error {
	r, v, err := openState("clusters", data, 1, clustersVersion)
	if err != nil {
		return err
	}
	d := r.uvarint()
	if r.err == nil && d > maxClusterFields {
		return fmt.Errorf("clusters state: %d fields, more than %d", d, maxClusterFields)
	}
	spec := &ClusterSpec{}
	for i := uint64(0); i < d && r.err == nil; i++ {
		spec.Fields = append(spec.Fields, r.str())
	}
	spec.Max = int(r.uvarint())
	spec.Cell = r.float()
	if v == 1 {
		spec.Cell = DefaultClusterCell // it was CluStream's boundary factor
	}
	spec.resolve()
	nc := &Clusters{spec: spec}
	nc.Base = r.varint()
	nc.Missing = int64(r.uvarint())
	if v >= 2 {
		nc.level = int(r.uvarint())
		nc.keyed = r.byte() == 1
	}
	if r.err == nil && (nc.level > maxLevel || !(spec.Cell >= 1e-6 && spec.Cell <= 1e3) || spec.Max < 1) {
		return fmt.Errorf("clusters state: level %d, cell %g, max %d out of range", nc.level, spec.Cell, spec.Max)
	}
	n := r.count("micro-cluster")
	// Every micro-cluster holds at least its count's byte and 6d+2 floats
	// of 8 bytes: a count the data cannot hold is refused before the
	// micro-clusters are allocated, in one block for the state (serving
	// decodes a pane's state for each range edge and fine step it reads,
	// and two allocations per micro-cluster were most of that cost).
	if per := 1 + (6*d+2)*8; r.err == nil && n > uint64(len(r.b))/per {
		return fmt.Errorf("clusters state: %d micro-clusters, more than the %d bytes left hold", n, len(r.b))
	}
	slab := newMicros(int(d), int(n))
	nc.mcs = make([]*MicroCluster, 0, n)
	if nc.keyed {
		nc.cells = make([]int32, 0, n*d)
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		m := &slab[i]
		m.N = int64(r.uvarint())
		if nc.keyed {
			for range d {
				nc.cells = append(nc.cells, int32(r.varint()))
			}
		}
		for _, s := range [][]float64{m.LS, m.SS, m.RS, m.RSS, m.Min, m.Max} {
			for j := range s {
				s[j] = r.float()
			}
		}
		m.LST, m.SST = r.float(), r.float()
		if r.err == nil && m.N <= 0 {
			r.err = fmt.Errorf("micro-cluster %d has count %d", i, m.N)
		}
		m.centre()
		nc.mcs = append(nc.mcs, m)
	}
	if err := r.done(); err != nil {
		return err
	}
	*c = *nc
	return nil
}

// Summary returns readable figures for people reading the database.
func (c *Clusters) Summary() map[string]any {
	return map[string]any{"fields": c.spec.Fields, "micro_clusters": len(c.mcs), "count": c.Count(), "missing": c.Missing}
}
