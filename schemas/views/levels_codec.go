package views

import "encoding/binary"

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
		b = appendBlob(b, k.Instance)
		b = appendBlob(b, k.Level)
		b = binary.AppendUvarint(b, uint64(*counts[k]))
	}
	return b, nil
}

// UnmarshalBinary replaces l by the decoded state. Corrupt or truncated
// data gives an error and leaves l unchanged.
func (l *Levels) UnmarshalBinary(data []byte) error {
	r, _, err := openState("levels", data, levelsVersion, levelsVersion)
	if err != nil {
		return err
	}
	n := r.count("key")
	nl := newLevelsCap(l.limitOrDefault())
	for i := uint64(0); i < n && r.err == nil; i++ {
		inst, lvl, c := r.str(), r.str(), r.uvarint()
		if r.err == nil {
			nl.add(LevelKey{inst, lvl}, int64(c))
		}
	}
	if err := r.done(); err != nil {
		return err
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
