package views

import (
	"encoding/binary"
	"errors"
	"fmt"
)

const levelsVersion = 1

// MarshalBinary encodes the state: version, key count, then every key in
// sorted order (instance, level, count as varint-prefixed strings and a
// varint), so equal states encode to equal bytes.
func (l *Levels) MarshalBinary() ([]byte, error) {
	counts := l.folded()
	keys := sortedLevelKeys(counts)
	b := []byte{levelsVersion}
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k.Instance)))
		b = append(b, k.Instance...)
		b = binary.AppendUvarint(b, uint64(len(k.Level)))
		b = append(b, k.Level...)
		b = binary.AppendUvarint(b, uint64(counts[k]))
	}
	return b, nil
}

// UnmarshalBinary replaces l by the decoded state. Corrupt or truncated
// data gives an error and leaves l unchanged.
func (l *Levels) UnmarshalBinary(data []byte) error {
	r := reader{b: data}
	if v := r.byte(); v != levelsVersion {
		return fmt.Errorf("levels state: version %d, want %d", v, levelsVersion)
	}
	n := r.uvarint()
	if r.err == nil && n > uint64(len(data)) {
		r.err = errors.New("key count larger than data")
	}
	nl := newLevelsCap(l.limitOrDefault())
	for i := uint64(0); i < n && r.err == nil; i++ {
		inst := string(r.bytes(r.uvarint()))
		lvl := string(r.bytes(r.uvarint()))
		c := r.uvarint()
		if r.err == nil {
			nl.counts[LevelKey{inst, lvl}] += int64(c)
		}
	}
	if r.err != nil {
		return fmt.Errorf("levels state: %w", r.err)
	}
	nl.fold()
	*l = *nl
	return nil
}

func (l *Levels) limitOrDefault() int {
	if l.limit > 0 {
		return l.limit
	}
	return LevelsCap
}
