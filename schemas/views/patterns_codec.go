package views

import (
	"encoding/binary"

	"github.com/loglambda/loglambda/schemas/patterns"
)

// patternsVersion 2 adds each key's first and last time; version 1 states
// (stored before) still decode, their keys taking the entry's times.
const patternsVersion = 2

// MarshalBinary encodes the state (cap applied): version, then the entries
// by id (id as 8 bytes; template, count, example, its partition and
// offset, first and last time, then the (instance, level) keys in order,
// each with its count and its first and last time as distances from the
// entry's), then the absorptions by absorbed id. Equal states encode to
// equal bytes.
func (s *Patterns) MarshalBinary() ([]byte, error) {
	es := s.folded()
	ids := make([]patterns.ID, 0, len(es))
	for id := range es {
		ids = append(ids, id)
	}
	sortIDs(ids)
	b := []byte{patternsVersion}
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		e := es[id]
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = appendBlob(b, e.Template)
		b = binary.AppendUvarint(b, uint64(e.Count))
		b = appendBlob(b, e.Example)
		b = binary.AppendVarint(b, int64(e.ExPartition))
		b = binary.AppendVarint(b, e.ExOffset)
		b = binary.AppendVarint(b, e.First)
		b = binary.AppendVarint(b, e.Last)
		keys := e.sortedKeys()
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for _, k := range keys {
			c := e.Keys[k]
			b = appendBlob(b, k.Instance)
			b = appendBlob(b, k.Level)
			b = binary.AppendUvarint(b, uint64(c.Count))
			b = binary.AppendUvarint(b, uint64(c.First-e.First))
			b = binary.AppendUvarint(b, uint64(e.Last-c.Last))
		}
	}
	abs := s.Absorptions()
	b = binary.AppendUvarint(b, uint64(len(abs)))
	for _, a := range abs {
		b = binary.BigEndian.AppendUint64(b, uint64(a.From))
		b = binary.BigEndian.AppendUint64(b, uint64(a.To))
		b = appendBlob(b, a.Template)
	}
	return b, nil
}

func sortIDs(ids []patterns.ID) {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
}

// UnmarshalBinary replaces s by the decoded state. Corrupt or truncated
// data gives an error and leaves s unchanged.
func (s *Patterns) UnmarshalBinary(data []byte) error {
	r, v, err := openState("patterns", data, 1, patternsVersion)
	if err != nil {
		return err
	}
	limit := s.limit
	if limit <= 0 {
		limit = PatternsCap
	}
	ns := newPatternsCap(limit)
	// A state repeats a few instances and levels under every pattern:
	// each is made a string once per state, and a pattern's keys are
	// allocated in one block (serving decodes a pane's state for each
	// range edge and fine step it reads).
	names := map[string]string{}
	name := func(b []byte) string {
		if s, ok := names[string(b)]; ok {
			return s
		}
		s := string(b)
		names[s] = s
		return s
	}
	n := r.count("pattern")
	for i := uint64(0); i < n && r.err == nil; i++ {
		e := &PatternStat{ID: patterns.ID(binary.BigEndian.Uint64(r.bytes(8)))}
		e.Template = r.str()
		e.Count = int64(r.uvarint())
		e.Example = r.str()
		e.ExPartition = int32(r.varint())
		e.ExOffset = r.varint()
		e.First, e.Last = r.varint(), r.varint()
		nk := r.count("key")
		e.Keys = make(map[LevelKey]*PatternKey, min(nk, 64))
		block := make([]PatternKey, 0, min(nk, 64))
		for j := uint64(0); j < nk && r.err == nil; j++ {
			inst, lvl := name(r.blob()), name(r.blob())
			c := PatternKey{Count: int64(r.uvarint()), First: e.First, Last: e.Last}
			if v >= 2 {
				c.First += int64(r.uvarint())
				c.Last -= int64(r.uvarint())
			}
			k := LevelKey{inst, lvl}
			if old := e.Keys[k]; old != nil {
				*old = old.merge(c)
			} else {
				if len(block) == cap(block) {
					block = make([]PatternKey, 0, min(nk-j, 64))
				}
				block = append(block, c)
				e.Keys[k] = &block[len(block)-1]
			}
		}
		ns.entries[e.ID] = e
	}
	na := r.count("absorption")
	for i := uint64(0); i < na && r.err == nil; i++ {
		a := patterns.Absorption{From: patterns.ID(binary.BigEndian.Uint64(r.bytes(8)))}
		a.To = patterns.ID(binary.BigEndian.Uint64(r.bytes(8)))
		a.Template = r.str()
		ns.absorbed[a.From] = a
	}
	if err := r.done(); err != nil {
		return err
	}
	*s = *ns
	return nil
}
