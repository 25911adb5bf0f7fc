package views

import (
	"encoding/binary"
	"fmt"
)

const clustersVersion = 1

// MarshalBinary encodes the state: version, spec (fields, max, boundary),
// base, missing, then every micro-cluster in the state's order (its count
// as a varint, its sums as little-endian float64). The order is kept, not
// sorted: a decoded state must continue exactly as the one encoded.
func (c *Clusters) MarshalBinary() ([]byte, error) {
	d := len(c.spec.Fields)
	b := make([]byte, 0, 32+len(c.mcs)*(10+8*(6*d+2)))
	b = append(b, clustersVersion)
	b = binary.AppendUvarint(b, uint64(d))
	for _, f := range c.spec.Fields {
		b = appendBlob(b, f)
	}
	b = binary.AppendUvarint(b, uint64(c.spec.Max))
	b = appendFloat(b, c.spec.Boundary)
	b = binary.AppendVarint(b, c.Base)
	b = binary.AppendUvarint(b, uint64(c.Missing))
	b = binary.AppendUvarint(b, uint64(len(c.mcs)))
	for _, m := range c.mcs {
		b = binary.AppendUvarint(b, uint64(m.N))
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

// UnmarshalBinary replaces c by the decoded state, spec included. Corrupt
// or truncated data gives an error and leaves c unchanged.
func (c *Clusters) UnmarshalBinary(data []byte) error {
	r, _, err := openState("clusters", data, clustersVersion, clustersVersion)
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
	spec.Boundary = r.float()
	nc := &Clusters{spec: spec}
	nc.Base = r.varint()
	nc.Missing = int64(r.uvarint())
	n := r.count("micro-cluster")
	for i := uint64(0); i < n && r.err == nil; i++ {
		m := newMicro(int(d))
		m.N = int64(r.uvarint())
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
