package batch

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/exact"
	"github.com/loglambda/loglambda/schemas/views"
)

// The exact sets (schemas/exact) of each recomputed hour: the distinct
// visitors and IPs of every pane as bitmaps of ids, written into the lake
// (exact.Name) so serving answers exact distinct counts of any range
// before the horizon without counting the lake's rows again.
//
// Ids other than IPv4 addresses come from a dictionary kept in the lake
// (idsName segments, SaveState: not Parquet, never an orphan): numbers are
// only ever appended, so a string keeps its number across hours, days,
// recomputes and processes. A run first reads the segments another
// process may have added (one writer at a time holds the lake's lock),
// and saves the numbers it gave before any document that uses them.

// idsName is the lake state name of dictionary segment i.
func idsName(i int) string { return fmt.Sprintf("_exact_ids.%06d", i) }

// idsVersion is the first byte of a segment.
const idsVersion = 1

// idDict maps strings to their stable numbers.
type idDict struct {
	ids   map[string]uint32
	segs  int      // segments read or written
	added []string // numbered since the last save, in number order
}

// catchUp reads the segments written since d last read or wrote one.
func (d *idDict) catchUp(ctx context.Context, l *lake.Lake) error {
	if d.ids == nil {
		d.ids = map[string]uint32{}
	}
	if len(d.added) > 0 {
		return fmt.Errorf("exact ids: %d unsaved numbers", len(d.added))
	}
	for {
		data, err := l.LoadState(ctx, idsName(d.segs))
		if err != nil {
			return fmt.Errorf("exact ids: %w", err)
		}
		if data == nil {
			return nil
		}
		if err := d.read(data); err != nil {
			return fmt.Errorf("exact ids segment %s: %w", idsName(d.segs), err)
		}
		d.segs++
	}
}

// read adds a segment: version, first number, count, then each string's
// length and bytes.
func (d *idDict) read(data []byte) error {
	if len(data) == 0 || data[0] != idsVersion {
		return fmt.Errorf("not version %d", idsVersion)
	}
	data = data[1:]
	first, n1 := binary.Uvarint(data)
	if n1 <= 0 {
		return errTruncated
	}
	data = data[n1:]
	if first != uint64(len(d.ids)) {
		return fmt.Errorf("first number %d, the dictionary has %d", first, len(d.ids))
	}
	count, n2 := binary.Uvarint(data)
	if n2 <= 0 {
		return errTruncated
	}
	data = data[n2:]
	for range count {
		size, n := binary.Uvarint(data)
		if n <= 0 || size > uint64(len(data)-n) {
			return errTruncated
		}
		s := string(data[n : n+int(size)])
		data = data[n+int(size):]
		if _, dup := d.ids[s]; dup {
			return fmt.Errorf("%q numbered twice", s)
		}
		d.ids[s] = uint32(len(d.ids))
	}
	if len(data) != 0 {
		return fmt.Errorf("%d bytes after the strings", len(data))
	}
	return nil
}

var errTruncated = fmt.Errorf("truncated")

// add puts id into s: an IPv4 address by its number, any other string by
// its dictionary number (given now if it has none).
func (d *idDict) add(s exact.Set, id string) {
	if v4, ok := exact.IPv4(id); ok {
		s.V4.Add(v4)
		return
	}
	n, ok := d.ids[id]
	if !ok {
		n = uint32(len(d.ids))
		d.ids[id] = n
		d.added = append(d.added, id)
	}
	s.Dict.Add(n)
}

// save writes the numbers given since the last save as the next segment.
func (d *idDict) save(ctx context.Context, l *lake.Lake) error {
	if len(d.added) == 0 {
		return nil
	}
	first := len(d.ids) - len(d.added)
	b := []byte{idsVersion}
	b = binary.AppendUvarint(b, uint64(first))
	b = binary.AppendUvarint(b, uint64(len(d.added)))
	for _, s := range d.added {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if err := l.SaveState(ctx, idsName(d.segs), b); err != nil {
		return fmt.Errorf("exact ids: %w", err)
	}
	d.segs++
	d.added = d.added[:0]
	return nil
}

// forget drops the numbers given since the last save (a failed hour): the
// next run reads the dictionary from the lake again.
func (d *idDict) forget() {
	for _, s := range d.added {
		delete(d.ids, s)
	}
	d.added = d.added[:0]
}

// exactHour collects an hour's sets while hourPanes reads its distinct
// ids.
type exactHour struct {
	dict     *idDict
	uv, ips  map[*views.Pane]exact.Set
	paneSecs int64
}

func newExactHour(d *idDict, pane time.Duration) *exactHour {
	return &exactHour{dict: d, uv: map[*views.Pane]exact.Set{}, ips: map[*views.Pane]exact.Set{}, paneSecs: int64(pane / time.Second)}
}

func (e *exactHour) add(m map[*views.Pane]exact.Set, p *views.Pane, id string) {
	s, ok := m[p]
	if !ok {
		s = exact.NewSet()
		m[p] = s
	}
	e.dict.add(s, id)
}

// hour returns the sets of h's panes, checking each cardinality against
// the pane's exact counts, and of its quarters and itself (their unions).
func (e *exactHour) hour(h time.Time, panes map[time.Time]*views.Pane) (*exact.Hour, error) {
	out := &exact.Hour{Hour: h, PaneSecs: e.paneSecs, HourUV: exact.NewSet(), HourIPs: exact.NewSet()}
	for _, t := range sortedPanes(panes) {
		p := panes[t]
		uv, ok := e.uv[p]
		if !ok {
			uv = exact.NewSet()
		}
		ips, ok := e.ips[p]
		if !ok {
			ips = exact.NewSet()
		}
		if uv.Len() != p.Traffic.ExactUV || ips.Len() != p.Traffic.ExactIPs {
			return nil, fmt.Errorf("exact sets of pane %s: %d visitors %d ips, counts say %d %d", t.Format(time.RFC3339), uv.Len(), ips.Len(), p.Traffic.ExactUV, p.Traffic.ExactIPs)
		}
		out.Panes = append(out.Panes, t.Unix())
		out.UV, out.IPs = append(out.UV, uv), append(out.IPs, ips)
		out.HourUV.Or(uv)
		out.HourIPs.Or(ips)
	}
	sort.Slice(out.Panes, func(i, j int) bool { return out.Panes[i] < out.Panes[j] })
	out.AddQuarters()
	return out, nil
}

// writeExact saves the dictionary's new numbers, then hour's sets
// (replacing a previous recompute's).
func (b *Batch) writeExact(ctx context.Context, h *exact.Hour) error {
	if err := b.ids.save(ctx, b.lake); err != nil {
		return err
	}
	h.Generation = b.generation()
	state, err := h.Encode()
	if err != nil {
		return err
	}
	if err := b.lake.SaveState(ctx, exact.Name(h.Hour), state); err != nil {
		return fmt.Errorf("exact sets (%d bytes): %w", len(state), err)
	}
	// The hour's own sets last: serving takes them as the sign that the
	// hour's sets are all there.
	if state, err = h.HourOnly().Encode(); err != nil {
		return err
	}
	if err := b.lake.SaveState(ctx, exact.HourName(h.Hour), state); err != nil {
		return fmt.Errorf("exact sets of the hour (%d bytes): %w", len(state), err)
	}
	return nil
}
