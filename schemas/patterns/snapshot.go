package patterns

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// A snapshot is the whole state of a Miner, exactly: not only its
// patterns (MarshalBinary keeps those, and UnmarshalBinary places them
// again, which may join patterns the live miner kept apart) but also the
// order of its slots, its free list, its buckets' order, the key cache
// and the clock. A miner restored from a snapshot mines every later
// message exactly as the miner that took it would have: the speed layer
// stores one with each partition checkpoint, so that a restart continues
// the same pattern ids as an uninterrupted run.
//
// Layout (unsigned varints unless said): "LLMS" 0x01, tick, evicted,
// slots, then per slot a live byte and, when live: count, last, bucket,
// units (number, then each as MarshalBinary writes it: see appendPattern),
// example; the free list; the buckets (number, then per bucket its unit
// count and its slots in order, by unit count); the key cache (number,
// then hash as 8 bytes and slot, by hash).
const snapshotMagic = "LLMS\x01"

// MarshalSnapshot encodes the miner's exact state.
func (m *Miner) MarshalSnapshot() []byte {
	b := make([]byte, 0, 64*len(m.clusters)+12*len(m.keys)+32)
	b = append(b, snapshotMagic...)
	b = binary.AppendUvarint(b, m.tick)
	b = binary.AppendUvarint(b, m.evicted)
	b = binary.AppendUvarint(b, uint64(len(m.clusters)))
	for i := range m.clusters {
		c := &m.clusters[i]
		if !c.live {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, c.count)
		b = binary.AppendUvarint(b, c.last)
		b = binary.AppendUvarint(b, uint64(c.bucket.n))
		b = appendPattern(b, c)
	}
	b = binary.AppendUvarint(b, uint64(len(m.free)))
	for _, f := range m.free {
		b = binary.AppendUvarint(b, uint64(f))
	}
	bks := make([]int, 0, len(m.buckets))
	for k := range m.buckets {
		bks = append(bks, k.n)
	}
	slices.Sort(bks)
	b = binary.AppendUvarint(b, uint64(len(bks)))
	for _, n := range bks {
		s := m.buckets[bucketKey{n: n}]
		b = binary.AppendUvarint(b, uint64(n))
		b = binary.AppendUvarint(b, uint64(len(s)))
		for _, ci := range s {
			b = binary.AppendUvarint(b, uint64(ci))
		}
	}
	hs := make([]uint64, 0, len(m.keys))
	for h := range m.keys {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	b = binary.AppendUvarint(b, uint64(len(hs)))
	for _, h := range hs {
		b = binary.BigEndian.AppendUint64(b, h)
		b = binary.AppendUvarint(b, uint64(m.keys[h]))
	}
	return b
}

// UnmarshalSnapshot replaces m's state by a snapshot's; m keeps its
// options. Corrupt data gives an error and leaves m unchanged.
func (m *Miner) UnmarshalSnapshot(data []byte) error {
	if len(data) < len(snapshotMagic) || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return fmt.Errorf("decode miner snapshot: %w: bad magic or version", errCorrupt)
	}
	d := decoder{b: data[len(snapshotMagic):]}
	n := &Miner{opt: m.opt}
	n.reset()
	n.tick, n.evicted = d.uvarint(), d.uvarint()
	slots := d.uvarint()
	if slots > uint64(len(d.b)) {
		d.fail("%d slots in %d bytes", slots, len(d.b))
	}
	n.clusters = make([]cluster, 0, slots)
	for i := uint64(0); i < slots && d.err == nil; i++ {
		var c cluster
		if d.byte() == 1 {
			c.live = true
			c.count, c.last = d.uvarint(), d.uvarint()
			c.bucket = bucketKey{n: int(d.uvarint())}
			d.pattern(&c, "slot", i)
			c.id = TemplateID(templateText(c.units))
			n.byID[c.id] = int32(i)
			n.live++
		}
		n.clusters = append(n.clusters, c)
	}
	slot := func() int32 {
		v := d.uvarint()
		if v >= uint64(len(n.clusters)) {
			d.fail("slot %d of %d", v, len(n.clusters))
			return 0
		}
		return int32(v)
	}
	nf := d.uvarint()
	for i := uint64(0); i < nf && d.err == nil; i++ {
		n.free = append(n.free, slot())
	}
	nb := d.uvarint()
	for i := uint64(0); i < nb && d.err == nil; i++ {
		k := bucketKey{n: int(d.uvarint())}
		ns := d.uvarint()
		if ns > uint64(len(d.b)) {
			d.fail("bucket of %d slots in %d bytes", ns, len(d.b))
			break
		}
		s := make([]int32, 0, ns)
		for j := uint64(0); j < ns && d.err == nil; j++ {
			s = append(s, slot())
		}
		n.buckets[k] = s
	}
	nk := d.uvarint()
	for i := uint64(0); i < nk && d.err == nil; i++ {
		if len(d.b) < 8 {
			d.fail("truncated key")
			break
		}
		h := binary.BigEndian.Uint64(d.b)
		d.b = d.b[8:]
		n.keys[h] = slot()
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the key cache", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("decode miner snapshot: %w", d.err)
	}
	*m = *n
	return nil
}
