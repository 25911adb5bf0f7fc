package batch

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
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

// idDict maps strings to their stable numbers. It holds every string the
// lake ever numbered, so it grows with the distinct visitors of the whole
// history (a site with 10 M a day: 70 M a week). It is therefore kept
// without a Go pointer per string: the strings end to end in chunks of
// idChunk bytes, each number's place in them, and an open-addressing
// table of numbers with a tag of their hash. A map[string]uint32 held 79
// bytes of heap a 10-14 byte id, every string an object the collector
// scans; this holds 43, in a few large arrays without pointers
// (BenchmarkIDDictMemory). It still grows with the history.
type idDict struct {
	chunks [][]byte // the strings, uvarint length then bytes, in number order
	at     []uint64 // at[n]: chunk index << 32 | offset of string n
	// table holds tag << 32 | number+1 (0: empty), hashed by string;
	// its length is a power of two, at most 3/4 full. Numbers were put in
	// in number order (a rebuild puts them in again in that order), so a
	// string's probe only ever passes smaller numbers: dropping the
	// newest numbers (forget) leaves every other probe whole.
	table  []uint64
	seed   maphash.Seed
	segs   int // segments read or written
	saved  int // numbers in those segments; the ones after are unsaved
	lenBuf [binary.MaxVarintLen64]byte
}

// idChunk is the size of a chunk of strings: appended to, never
// reallocated, so the dictionary never holds two copies of its strings.
const idChunk = 1 << 20

// len is the number of strings numbered.
func (d *idDict) len() int { return len(d.at) }

// str returns string n's bytes (aliasing its chunk).
func (d *idDict) str(n uint32) []byte {
	at := d.at[n]
	c := d.chunks[at>>32][uint32(at):]
	size, k := binary.Uvarint(c)
	return c[k : k+int(size)]
}

// find returns the number of s (hashed h), or the table slot where it
// would go.
func find[S string | []byte](d *idDict, s S, h uint64) (n uint32, slot int, ok bool) {
	mask := len(d.table) - 1
	tag := h >> 32
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := d.table[i]
		if e == 0 {
			return 0, i, false
		}
		if e>>32 == tag && string(d.str(uint32(e)-1)) == string(s) {
			return uint32(e) - 1, i, true
		}
	}
}

// lookup returns the number of s, if it has one.
func (d *idDict) lookup(s string) (uint32, bool) {
	if len(d.table) == 0 {
		return 0, false
	}
	n, _, ok := find(d, s, maphash.String(d.seed, s))
	return n, ok
}

// put numbers s, which has no number, and returns its number.
func (d *idDict) put(s string) uint32 {
	if len(d.table) == 0 {
		d.seed = maphash.MakeSeed()
		d.table = make([]uint64, 1024)
	}
	if (len(d.at)+1)*4 > len(d.table)*3 {
		d.rebuild(len(d.table) * 2)
	}
	size := len(binary.AppendUvarint(d.lenBuf[:0], uint64(len(s)))) + len(s)
	last := len(d.chunks) - 1
	if last < 0 || len(d.chunks[last])+size > cap(d.chunks[last]) {
		d.chunks = append(d.chunks, make([]byte, 0, max(idChunk, size)))
		last++
	}
	c := d.chunks[last]
	n := uint32(len(d.at))
	d.at = append(d.at, uint64(last)<<32|uint64(len(c)))
	c = binary.AppendUvarint(c, uint64(len(s)))
	d.chunks[last] = append(c, s...)
	h := maphash.String(d.seed, s)
	_, slot, _ := find(d, s, h)
	d.table[slot] = h>>32<<32 | uint64(n+1)
	return n
}

// rebuild makes a table of size slots and puts every number in it again,
// in number order.
func (d *idDict) rebuild(size int) {
	d.table = make([]uint64, size)
	for n := range uint32(len(d.at)) {
		s := d.str(n)
		h := maphash.Bytes(d.seed, s)
		_, slot, _ := find(d, s, h)
		d.table[slot] = h>>32<<32 | uint64(n+1)
	}
}

// catchUp reads the segments written since d last read or wrote one.
func (d *idDict) catchUp(ctx context.Context, l *lake.Lake) error {
	if d.saved < d.len() {
		return fmt.Errorf("exact ids: %d unsaved numbers", d.len()-d.saved)
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
			d.forget()
			return fmt.Errorf("exact ids segment %s: %w", idsName(d.segs), err)
		}
		d.segs++
		d.saved = d.len()
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
	if first != uint64(d.len()) {
		return fmt.Errorf("first number %d, the dictionary has %d", first, d.len())
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
		if _, dup := d.lookup(s); dup {
			return fmt.Errorf("%q numbered twice", s)
		}
		d.put(s)
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
	n, ok := d.lookup(id)
	if !ok {
		n = d.put(id)
	}
	s.Dict.Add(n)
}

// save writes the numbers given since the last save as the next segment.
func (d *idDict) save(ctx context.Context, l *lake.Lake) error {
	if d.saved == d.len() {
		return nil
	}
	b := []byte{idsVersion}
	b = binary.AppendUvarint(b, uint64(d.saved))
	b = binary.AppendUvarint(b, uint64(d.len()-d.saved))
	for n := d.saved; n < d.len(); n++ {
		s := d.str(uint32(n))
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if err := l.SaveState(ctx, idsName(d.segs), b); err != nil {
		return fmt.Errorf("exact ids: %w", err)
	}
	d.segs++
	d.saved = d.len()
	return nil
}

// forget drops the numbers given since the last save (a failed hour): the
// next run reads the dictionary from the lake again. They are the newest,
// so their table slots are emptied without breaking another's probe.
func (d *idDict) forget() {
	if d.saved == d.len() {
		return
	}
	for i, e := range d.table {
		if e != 0 && int(uint32(e)-1) >= d.saved {
			d.table[i] = 0
		}
	}
	first := d.at[d.saved]
	d.chunks = d.chunks[:first>>32+1]
	d.chunks[first>>32] = d.chunks[first>>32][:uint32(first)]
	d.at = d.at[:d.saved]
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
		if err := out.HourUV.Or(uv); err != nil {
			return nil, fmt.Errorf("exact sets of %s: %w", h.Format(time.RFC3339), err)
		}
		if err := out.HourIPs.Or(ips); err != nil {
			return nil, fmt.Errorf("exact sets of %s: %w", h.Format(time.RFC3339), err)
		}
	}
	sort.Slice(out.Panes, func(i, j int) bool { return out.Panes[i] < out.Panes[j] })
	if err := out.AddQuarters(); err != nil {
		return nil, fmt.Errorf("exact sets of %s: %w", h.Format(time.RFC3339), err)
	}
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
