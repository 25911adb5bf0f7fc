package lake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/loglambda/loglambda/base/objstore"
	"github.com/loglambda/loglambda/schemas/lakefiles"
)

// ManifestName is the manifest's file name in the topic directory; the
// read contract (name, version, files) is schemas/lakefiles'.
const ManifestName = lakefiles.ManifestName

// manifestVersion is bumped when the manifest's meaning changes; Load
// refuses versions it does not know rather than misreading them.
const manifestVersion = lakefiles.ManifestVersion

// Manifest lists the files of a topic's lake and how far compaction and
// recompute have got. It is saved as indented JSON so an operator can read
// it; see the package doc for why it is the source of truth.
type Manifest struct {
	Version int    `json:"version"`
	Topic   string `json:"topic"`
	// Partitions holds compaction's progress per Kafka partition.
	Partitions map[int32]*Partition `json:"partitions"`
	// Files are the lake's files, sorted by path.
	Files []File `json:"files"`
	// Hours holds recompute's state per event-time hour (start, UTC).
	Hours map[time.Time]*HourState `json:"hours"`
	// Generation is the views' contract generation the hours were
	// recomputed under (collections.Contract; 0: from before generations,
	// read as 1). A recompute under another clears every hour's
	// Recomputed, so the whole retained lake is recomputed.
	Generation int64 `json:"generation,omitempty"`
}

// Partition is compaction's progress on one Kafka partition.
type Partition struct {
	// NextOffset is the first offset not yet in the lake.
	NextOffset int64 `json:"next_offset"`
	// MaxEventTime is the largest event time compacted from the partition
	// (events without a time of their own excluded: their ingest time says
	// nothing about how far the partition's event time has got). Zero when
	// the partition had no timed event yet; such a partition does not hold
	// back hour completeness.
	MaxEventTime time.Time `json:"max_event_time,omitzero"`
	// LostOffsets counts offsets that Kafka deleted (retention) before
	// compaction read them: data that never reached the lake.
	LostOffsets int64 `json:"lost_offsets,omitempty"`
	// LastAppend is the newest Kafka record timestamp compacted from the
	// partition: when a producer last wrote to it, as far as the lake
	// knows.
	LastAppend time.Time `json:"last_append,omitzero"`
	// Quiet is when a compaction found the partition read to its end with
	// its newest record at least the grace old: a producer that stopped
	// (a finished file, a source gone idle). Its event time will not move
	// on, so it no longer holds back hour completeness; a record that does
	// come later marks its hour dirty as any late record does. Cleared
	// when the partition gets new records.
	Quiet time.Time `json:"quiet,omitzero"`
}

// Blocks reports whether the partition holds back the completeness of
// hours ending at end: it has timed events, is not quiet, and its event
// time has not passed end yet.
func (p *Partition) Blocks(end time.Time) bool {
	return !p.MaxEventTime.IsZero() && p.Quiet.IsZero() && p.MaxEventTime.Before(end)
}

// File is one Parquet file of the lake: the manifest's entry, declared
// with the read contract (lakefiles.File) so that readers and this writer
// share one shape.
type File = lakefiles.File

// HourState is recompute's record of one hour.
type HourState struct {
	// Recomputed is when the hour's batch views were last written; zero if
	// never.
	Recomputed time.Time `json:"recomputed,omitzero"`
	// Dirty is set when compaction adds rows to a recomputed hour (late
	// data): its batch views are stale until the next recompute.
	Dirty bool `json:"dirty,omitempty"`
}

// NewManifest returns the manifest of an empty lake.
func NewManifest(topic string) *Manifest {
	return &Manifest{
		Version:    manifestVersion,
		Topic:      topic,
		Partitions: map[int32]*Partition{},
		Hours:      map[time.Time]*HourState{},
	}
}

// Partition returns the state of partition p, creating it.
func (m *Manifest) Partition(p int32) *Partition {
	ps := m.Partitions[p]
	if ps == nil {
		ps = &Partition{}
		m.Partitions[p] = ps
	}
	return ps
}

// Hour returns the state of the hour starting at h, creating it.
func (m *Manifest) Hour(h time.Time) *HourState {
	h = Hour(h)
	hs := m.Hours[h]
	if hs == nil {
		hs = &HourState{}
		m.Hours[h] = hs
	}
	return hs
}

// AddFiles records new files and marks their hours dirty when the hours
// were recomputed before: the batch views no longer cover every row.
func (m *Manifest) AddFiles(files ...File) {
	for _, f := range files {
		m.Files = append(m.Files, f)
		if hs := m.Hour(f.Hour); !hs.Recomputed.IsZero() {
			hs.Dirty = true
		}
	}
	m.sortFiles()
}

// ReplaceFiles swaps old files for a merged one holding the same rows;
// hour states do not change since the data does not.
func (m *Manifest) ReplaceFiles(old []string, merged File) {
	drop := make(map[string]bool, len(old))
	for _, p := range old {
		drop[p] = true
	}
	kept := m.Files[:0]
	for _, f := range m.Files {
		if !drop[f.Path] {
			kept = append(kept, f)
		}
	}
	m.Files = append(kept, merged)
	m.sortFiles()
}

// SwapFiles replaces the files old by files holding the same records
// decoded again (a re-parse): unlike a merge the rows' columns, and so
// their event hours, may differ, so every hour losing or gaining rows
// that was recomputed is marked dirty.
func (m *Manifest) SwapFiles(old []File, files []File) {
	drop := make(map[string]bool, len(old))
	for _, f := range old {
		drop[f.Path] = true
		if hs := m.Hours[Hour(f.Hour)]; hs != nil && !hs.Recomputed.IsZero() {
			hs.Dirty = true
		}
	}
	kept := m.Files[:0]
	for _, f := range m.Files {
		if !drop[f.Path] {
			kept = append(kept, f)
		}
	}
	m.Files = kept
	m.AddFiles(files...)
}

// FreePath returns rel, or rel with a number before its extension, such
// that the manifest names no file of that path and taken does not hold
// it: a new file never replaces one the manifest names (a re-parse or a
// merge of re-parsed files can cover the same offsets as a file it does
// not replace).
func (m *Manifest) FreePath(rel string, taken map[string]bool) string {
	used := func(p string) bool {
		if taken[p] {
			return true
		}
		for _, f := range m.Files {
			if f.Path == p {
				return true
			}
		}
		return false
	}
	if !used(rel) {
		return rel
	}
	base := strings.TrimSuffix(rel, ".parquet")
	for i := 2; ; i++ {
		if p := fmt.Sprintf("%s-%d.parquet", base, i); !used(p) {
			return p
		}
	}
}

func (m *Manifest) sortFiles() {
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
}

// HourFiles returns the files of each hour, hours ascending.
func (m *Manifest) HourFiles() (hours []time.Time, files map[time.Time][]File) {
	files = map[time.Time][]File{}
	for _, f := range m.Files {
		h := Hour(f.Hour)
		if _, ok := files[h]; !ok {
			hours = append(hours, h)
		}
		files[h] = append(files[h], f)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].Before(hours[j]) })
	return hours, files
}

// Clone returns a deep copy, so a run can build the next manifest and
// drop it on error.
func (m *Manifest) Clone() *Manifest {
	c := NewManifest(m.Topic)
	c.Version, c.Generation = m.Version, m.Generation
	for p, ps := range m.Partitions {
		v := *ps
		c.Partitions[p] = &v
	}
	c.Files = append([]File(nil), m.Files...)
	for h, hs := range m.Hours {
		v := *hs
		c.Hours[h] = &v
	}
	return c
}

// LoadManifest reads the manifest of the lake, or returns an empty one when
// the lake has none yet.
func (l *Lake) LoadManifest(ctx context.Context) (*Manifest, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	p := l.key(ManifestName)
	m := NewManifest(l.topic)
	data, v, err := l.store.Get(ctx, p)
	if errors.Is(err, objstore.ErrNotExist) {
		l.manifestVersion = ""
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("load manifest %s/%s: %w", l.store, p, err)
	}
	if err := lakefiles.CheckManifest(l.store.String()+"/"+p, m.Version, m.Topic, l.topic); err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	if m.Partitions == nil {
		m.Partitions = map[int32]*Partition{}
	}
	if m.Hours == nil {
		m.Hours = map[time.Time]*HourState{}
	}
	l.manifestVersion = v
	return m, nil
}

// storeTimeout bounds a manifest or state read or write within the
// caller's context: a remote store that does not answer must fail the
// run, not hang it.
const storeTimeout = 2 * time.Minute

// HasManifest reports whether the lake's manifest file exists. A lake
// without one is new, or has lost it: compaction saves one before its
// first file (see Batch.Compact), so files without a manifest are never a
// run's own.
func (l *Lake) HasManifest(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	_, _, err := l.store.Get(ctx, l.key(ManifestName))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, objstore.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("manifest: %w", err)
}

// SaveManifest writes the manifest atomically (a local lake through
// base/atomicfile, a remote one by a single PUT), so a crash leaves the
// old or the new manifest. A remote lake's save is conditional on the
// manifest being the one this lake last loaded or saved, and refused when
// the writer's lease is not surely held: a run that lost its lease (paused
// past its expiry) must not overwrite the manifest of the run that took
// over, and it must end before the lease's Deadline. Where the server
// has no conditional writes (objstore.Emulated) the condition is a read
// before the write, and the lease alone keeps a single writer. Locally
// the flock makes such a race impossible.
func (l *Lake) SaveManifest(ctx context.Context, m *Manifest) error {
	m.sortFiles()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("save manifest: %w", err)
	}
	cond := objstore.Always
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if l.Remote() {
		if l.lease != nil {
			if err := l.lease.Check(); err != nil {
				return fmt.Errorf("save manifest: %w", err)
			}
			// A save that cannot end while the lease surely holds
			// must not land at all (see objstore.Lease.Deadline).
			var c2 context.CancelFunc
			ctx, c2 = context.WithDeadline(ctx, l.lease.Deadline())
			defer c2()
		}
		cond = objstore.IfVersion(l.manifestVersion)
	}
	v, err := l.store.Put(ctx, l.key(ManifestName), append(data, '\n'), cond)
	if err != nil {
		return fmt.Errorf("save manifest: %w", err)
	}
	l.manifestVersion = v
	return nil
}

// SaveState writes a file of the layer's own state (not Parquet, not named
// by the manifest, so never an orphan) into the topic directory,
// atomically as SaveManifest does.
func (l *Lake) SaveState(ctx context.Context, name string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if _, err := l.store.Put(ctx, l.key(name), data, objstore.Always); err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	return nil
}

// LoadState reads a file SaveState wrote; nil and no error when there is
// none.
func (l *Lake) LoadState(ctx context.Context, name string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	data, _, err := l.store.Get(ctx, l.key(name))
	if errors.Is(err, objstore.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	return data, nil
}
