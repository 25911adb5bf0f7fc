// Package exact holds the exact sets of visitors and of IPs that batch
// recompute writes per pane and per hour, so that serving answers the
// exact distinct count of any run of panes before the horizon as the
// cardinality of a union of compressed bitmaps, in milliseconds, instead
// of counting the lake's rows again with DuckDB (seconds over a day).
//
// An id is a member of a Set: a canonical IPv4 address is its own 32-bit
// number (no dictionary needed for the many anonymous visitors counted by
// their address, nor for IPs); any other string (a user, an IPv6 address)
// is its number in a dictionary that batch keeps with the lake, so that
// ids are stable across hours, days and recomputes and sets of different
// hours can be united. The two kinds are kept in two bitmaps: their union
// is disjoint, so a cardinality is the sum of the two.
//
// What is counted (the visitor rule, empty ids not counted) is not
// decided here: batch inserts exactly the distinct ids its SQL counts per
// pane (views.TrafficCountsSQL, event.VisitorSQL) and checks the
// cardinalities against those counts.
package exact

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// Name is where hour's sets are kept in the lake, relative to the topic
// directory: beside the lake's files, read by serving on demand (a day's
// sets, 2.2 MiB in 24 MongoDB documents, took the embedded FerretDB 0.6 s
// to hand over; from files the whole answer took 3.6 ms), and
// neither Parquet nor named by the manifest, so no reader of rows sees
// it and the orphan sweep keeps it.
func Name(hour time.Time) string {
	return "_exact/" + hour.UTC().Format("2006-01-02T15") + ".sets"
}

// HourName is where hour's own sets and its quarters' are kept (an Hour
// without panes, a fraction of Name's bytes): a range or bucket holding
// the whole hour, or whole quarters of it, reads only these.
func HourName(hour time.Time) string {
	return "_exact/" + hour.UTC().Format("2006-01-02T15") + ".hour.sets"
}

// IPv4 returns the number of s when s is an IPv4 address written the one
// canonical way (netip's String gives it back), so that two strings
// DuckDB counts as distinct never share a number.
func IPv4(s string) (uint32, bool) {
	if len(s) < 7 || len(s) > 15 {
		return 0, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() || a.String() != s {
		return 0, false
	}
	b := a.As4()
	return binary.BigEndian.Uint32(b[:]), true
}

// Set is a set of ids: IPv4 addresses by their number, other strings by
// their dictionary number. A set being built (NewSet, Or) keeps both
// kinds as bitmaps. A set read from a version 3 encoding (Decode) knows
// its length from the encoding and reads its ids only when a union needs
// them (a bucket on one stored set is its length), IPv4 numbers as a
// sorted slice: addresses spread over 2^32 make a roaring container each,
// and reading a bitmap of 50,000 of them took 14 ms (280 ns an address),
// where the slice is a copy.
type Set struct {
	V4, Dict *roaring.Bitmap
	// read is set, V4 and Dict nil, for a set read from version 3.
	read *readSet
}

// readSet is a set as read from an encoding: its length, and its
// encoding (IPv4 count and numbers, dictionary bitmap) decoded once, on
// first use. Shared by the readers of a cached Hour.
type readSet struct {
	n    int64
	data []byte
	once sync.Once
	v4   []uint32
	dict *roaring.Bitmap
	err  error
}

// ids returns the set's IPv4 numbers in ascending order and its
// dictionary bitmap, decoding them on first use.
func (r *readSet) ids() ([]uint32, *roaring.Bitmap, error) {
	r.once.Do(func() {
		if r.v4, r.dict, r.err = decodeIDs(r.data); r.err == nil && int64(len(r.v4))+int64(r.dict.GetCardinality()) != r.n {
			r.err = fmt.Errorf("%d ids, the index says %d", int64(len(r.v4))+int64(r.dict.GetCardinality()), r.n)
		}
	})
	return r.v4, r.dict, r.err
}

// decodeIDs reads a set's ids: the IPv4 count and numbers (4 bytes each,
// little-endian, ascending), then the dictionary bitmap in roaring's
// portable format (read in place), filling data.
func decodeIDs(data []byte) ([]uint32, *roaring.Bitmap, error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)-k)/4 {
		return nil, nil, errShort
	}
	data = data[k:]
	v4 := make([]uint32, n)
	for i := range v4 {
		v4[i] = binary.LittleEndian.Uint32(data[4*i:])
		if i > 0 && v4[i] <= v4[i-1] {
			return nil, nil, fmt.Errorf("ipv4 numbers not ascending at %d", i)
		}
	}
	dict := roaring.New()
	size, err := dict.FromBuffer(data[4*n:])
	if err != nil {
		return nil, nil, err
	}
	if rest := int64(len(data)) - 4*int64(n) - size; rest != 0 {
		return nil, nil, fmt.Errorf("%d bytes after a set's ids", rest)
	}
	return v4, dict, nil
}

// NewSet returns an empty set.
func NewSet() Set { return Set{V4: roaring.New(), Dict: roaring.New()} }

// Len is the number of ids in s.
func (s Set) Len() int64 {
	if s.read != nil {
		return s.read.n
	}
	return int64(s.V4.GetCardinality() + s.Dict.GetCardinality())
}

// ids returns the IPv4 numbers of s in ascending order and its
// dictionary bitmap.
func (s Set) ids() ([]uint32, *roaring.Bitmap, error) {
	if s.read != nil {
		return s.read.ids()
	}
	return s.V4.ToArray(), s.Dict, nil
}

// Or adds the ids of o to s, a set being built (NewSet).
func (s Set) Or(o Set) error {
	v4, dict, err := o.ids()
	if err != nil {
		return err
	}
	if o.read == nil {
		s.V4.Or(o.V4)
	} else {
		s.V4.AddMany(v4)
	}
	s.Dict.Or(dict)
	return nil
}

// QuarterSecs is the width of the quarter hours whose sets an Hour keeps
// beside its panes': a 15-minute bucket (the dashboard's step over a
// day) is then one set, counted by its length, not a union of 15 panes.
const QuarterSecs = 900

// Hour is one hour's sets: per pane (by start, Unix seconds, ascending)
// the visitors and the IPs, per quarter hour the union of its panes', and
// the hour's, the union of them all.
type Hour struct {
	Hour time.Time
	// Generation is the views' generation (collections.Contract) the
	// hour was recomputed under; a reader ignores other generations'.
	Generation int64
	PaneSecs   int64
	Panes      []int64
	UV, IPs    []Set
	// QuarterUV and QuarterIPs are the sets of the quarters starting at
	// the hour, +15, +30 and +45 minutes; empty when the pane does not
	// divide a quarter, or in an encoding older than them (version 1).
	QuarterUV, QuarterIPs []Set
	HourUV                Set
	HourIPs               Set
}

// HasQuarters reports whether h holds its quarter hours' sets.
func (h *Hour) HasQuarters() bool { return len(h.QuarterUV) == 4 && len(h.QuarterIPs) == 4 }

// AddQuarters sets h's quarter sets from its panes', when the pane
// divides a quarter hour.
func (h *Hour) AddQuarters() error {
	h.QuarterUV, h.QuarterIPs = nil, nil
	if h.PaneSecs <= 0 || QuarterSecs%h.PaneSecs != 0 {
		return nil
	}
	start := h.Hour.Unix()
	for range 4 {
		h.QuarterUV, h.QuarterIPs = append(h.QuarterUV, NewSet()), append(h.QuarterIPs, NewSet())
	}
	for i, p := range h.Panes {
		q := (p - start) / QuarterSecs
		if q < 0 || q > 3 {
			continue
		}
		if err := h.QuarterUV[q].Or(h.UV[i]); err != nil {
			return err
		}
		if err := h.QuarterIPs[q].Or(h.IPs[i]); err != nil {
			return err
		}
	}
	return nil
}

// HourOnly returns h without its panes' sets, as kept at HourName.
func (h *Hour) HourOnly() *Hour {
	return &Hour{Hour: h.Hour, Generation: h.Generation, PaneSecs: h.PaneSecs,
		QuarterUV: h.QuarterUV, QuarterIPs: h.QuarterIPs, HourUV: h.HourUV, HourIPs: h.HourIPs}
}

// Encoding versions, the first byte of an encoded Hour. Version 1 (still
// read, from lakes recomputed before version 3): every set's bitmaps in
// roaring's portable format, no quarters. Version 3: the quarters' sets
// after the panes', each set preceded by its length (its number of ids,
// so a bucket on one set needs none of them read) and its size in bytes,
// and a set's IPv4 numbers as their count and each in 4 little-endian
// bytes, ascending (2.5 times smaller than roaring's container per
// address, and read by a copy). Version 2 (the same without the lengths,
// written for minutes by one commit) is refused: the lake then counts.
const (
	version1 = 1
	version  = 3
)

// Encode returns h's binary form: version, hour, generation, pane width,
// number of panes, each pane's start, number of quarters (0 or 4), then
// the sets of each pane, each quarter and the hour, visitors then IPs,
// each set its number of ids, its size in bytes, its IPv4 numbers and its
// dictionary bitmap (roaring's portable format).
func (h *Hour) Encode() ([]byte, error) {
	if len(h.UV) != len(h.Panes) || len(h.IPs) != len(h.Panes) || len(h.QuarterUV) != len(h.QuarterIPs) || (len(h.QuarterUV) != 0 && !h.HasQuarters()) {
		return nil, fmt.Errorf("encode exact sets of %s: %d panes, %d visitor sets, %d ip sets, %d and %d quarters' sets",
			h.Hour.Format(time.RFC3339), len(h.Panes), len(h.UV), len(h.IPs), len(h.QuarterUV), len(h.QuarterIPs))
	}
	var b bytes.Buffer
	b.WriteByte(version)
	b.Write(binary.AppendVarint(nil, h.Hour.Unix()))
	b.Write(binary.AppendVarint(nil, h.Generation))
	b.Write(binary.AppendVarint(nil, h.PaneSecs))
	b.Write(binary.AppendUvarint(nil, uint64(len(h.Panes))))
	for _, p := range h.Panes {
		b.Write(binary.AppendVarint(nil, p))
	}
	b.Write(binary.AppendUvarint(nil, uint64(len(h.QuarterUV))))
	var ids bytes.Buffer
	put := func(s Set) error {
		v4, dict, err := s.ids()
		if err != nil {
			return err
		}
		ids.Reset()
		ids.Write(binary.AppendUvarint(nil, uint64(len(v4))))
		num := make([]byte, 0, 4*len(v4))
		for _, v := range v4 {
			num = binary.LittleEndian.AppendUint32(num, v)
		}
		ids.Write(num)
		if s.read == nil {
			dict.RunOptimize()
		}
		if _, err := dict.WriteTo(&ids); err != nil {
			return err
		}
		b.Write(binary.AppendUvarint(nil, uint64(int64(len(v4))+int64(dict.GetCardinality()))))
		b.Write(binary.AppendUvarint(nil, uint64(ids.Len())))
		b.Write(ids.Bytes())
		return nil
	}
	sets := make([]Set, 0, 2*(len(h.Panes)+len(h.QuarterUV)+1))
	for i := range h.Panes {
		sets = append(sets, h.UV[i], h.IPs[i])
	}
	for i := range h.QuarterUV {
		sets = append(sets, h.QuarterUV[i], h.QuarterIPs[i])
	}
	sets = append(sets, h.HourUV, h.HourIPs)
	for _, s := range sets {
		if err := put(s); err != nil {
			return nil, fmt.Errorf("encode exact sets of %s: %w", h.Hour.Format(time.RFC3339), err)
		}
	}
	return b.Bytes(), nil
}

// Decode reads an Hour that Encode wrote (version 1 or 3). The dictionary
// bitmaps are read from data without a copy (data must not change while
// h is used).
func Decode(data []byte) (*Hour, error) {
	h := &Hour{}
	if err := h.decode(data); err != nil {
		return nil, fmt.Errorf("decode exact sets: %w", err)
	}
	return h, nil
}

var errShort = errors.New("truncated")

func (h *Hour) decode(data []byte) error {
	if len(data) == 0 || (data[0] != version && data[0] != version1) {
		return fmt.Errorf("not version %d or %d", version1, version)
	}
	v := data[0]
	data = data[1:]
	varint := func() (int64, error) {
		v, n := binary.Varint(data)
		if n <= 0 {
			return 0, errShort
		}
		data = data[n:]
		return v, nil
	}
	uvarint := func() (uint64, error) {
		v, n := binary.Uvarint(data)
		if n <= 0 {
			return 0, errShort
		}
		data = data[n:]
		return v, nil
	}
	hour, err := varint()
	if err != nil {
		return err
	}
	h.Hour = time.Unix(hour, 0).UTC()
	if h.Generation, err = varint(); err != nil {
		return err
	}
	if h.PaneSecs, err = varint(); err != nil {
		return err
	}
	n, err := uvarint()
	if err != nil {
		return err
	}
	if n > 3600 {
		return fmt.Errorf("%d panes in an hour", n)
	}
	h.Panes = make([]int64, n)
	for i := range h.Panes {
		if h.Panes[i], err = varint(); err != nil {
			return err
		}
	}
	var quarters uint64
	if v == version {
		if quarters, err = uvarint(); err != nil {
			return err
		}
		if quarters != 0 && quarters != 4 {
			return fmt.Errorf("%d quarters in an hour", quarters)
		}
	}
	bitmap := func() (*roaring.Bitmap, error) {
		size, err := uvarint()
		if err != nil {
			return nil, err
		}
		if size > uint64(len(data)) {
			return nil, errShort
		}
		bm := roaring.New()
		if _, err := bm.FromBuffer(data[:size]); err != nil {
			return nil, err
		}
		data = data[size:]
		return bm, nil
	}
	get := func() (s Set, err error) {
		if v == version1 {
			if s.V4, err = bitmap(); err != nil {
				return s, err
			}
			s.Dict, err = bitmap()
			return s, err
		}
		n, err := uvarint()
		if err != nil {
			return s, err
		}
		size, err := uvarint()
		if err != nil {
			return s, err
		}
		if size > uint64(len(data)) || n > math.MaxInt64 {
			return s, errShort
		}
		s.read = &readSet{n: int64(n), data: data[:size]}
		data = data[size:]
		return s, nil
	}
	h.UV, h.IPs = make([]Set, n), make([]Set, n)
	for i := range h.Panes {
		if h.UV[i], err = get(); err != nil {
			return err
		}
		if h.IPs[i], err = get(); err != nil {
			return err
		}
	}
	if quarters > 0 {
		h.QuarterUV, h.QuarterIPs = make([]Set, quarters), make([]Set, quarters)
		for i := range h.QuarterUV {
			if h.QuarterUV[i], err = get(); err != nil {
				return err
			}
			if h.QuarterIPs[i], err = get(); err != nil {
				return err
			}
		}
	}
	if h.HourUV, err = get(); err != nil {
		return err
	}
	if h.HourIPs, err = get(); err != nil {
		return err
	}
	if len(data) != 0 {
		return fmt.Errorf("%d bytes after the sets", len(data))
	}
	return nil
}

// Counter counts the distinct visitors and IPs of a union of hours'
// panes: Add the parts, then Counts. The zero value is ready; Reset
// empties it for the next union.
type Counter struct {
	uv, ips []Set
	// Scratch space kept for the next count.
	dict  []*roaring.Bitmap
	lists [][]uint32
	arena [2][]uint32
	err   error // of the last union
}

// Reset empties c, keeping its space.
func (c *Counter) Reset() {
	c.uv, c.ips = c.uv[:0], c.ips[:0]
}

// Add adds the ids of h in [from, to) (Unix seconds): the hour's own sets
// when the range holds the whole hour, else its quarters' when the range
// starts and ends on quarters of h and h holds them, else the sets of
// the panes starting in the range (h must then hold its panes: Name, not
// HourName).
func (c *Counter) Add(h *Hour, from, to int64) {
	start := h.Hour.Unix()
	a, z := max(from, start), min(to, start+3600)
	switch {
	case a >= z:
	case a == start && z == start+3600:
		c.add(h.HourUV, h.HourIPs)
	case h.HasQuarters() && (a-start)%QuarterSecs == 0 && (z-start)%QuarterSecs == 0:
		for q := (a - start) / QuarterSecs; q < (z-start)/QuarterSecs; q++ {
			c.add(h.QuarterUV[q], h.QuarterIPs[q])
		}
	default:
		for i, p := range h.Panes {
			if p >= from && p < to {
				c.add(h.UV[i], h.IPs[i])
			}
		}
	}
}

func (c *Counter) add(uv, ips Set) {
	c.uv, c.ips = append(c.uv, uv), append(c.ips, ips)
}

// Counts returns the exact number of distinct visitors and IPs added;
// an error when the ids of a set read from an encoding are damaged.
func (c *Counter) Counts() (uv, ips int64, err error) {
	c.err = nil
	uv, ips = c.union(c.uv), c.union(c.ips)
	if c.err != nil {
		return 0, 0, fmt.Errorf("count exact sets: %w", c.err)
	}
	return uv, ips, nil
}

// union counts the ids of sets. One set is its length. Dictionary ids
// are dense, so their bitmaps are few containers and an OR is cheap.
// IPv4 addresses are spread over 2^32, a roaring container each, and
// OR-ing many such bitmaps inserts containers into the middle of a
// growing array (a day's quarter-hour series spent seconds in memmove):
// their sorted numbers are instead merged, two lists at a time.
func (c *Counter) union(sets []Set) int64 {
	switch len(sets) {
	case 0:
		return 0
	case 1:
		return sets[0].Len()
	}
	c.dict, c.lists = c.dict[:0], c.lists[:0]
	for _, s := range sets {
		v4, dict, err := s.ids()
		if err != nil {
			c.err = err
			return 0
		}
		c.dict = append(c.dict, dict)
		c.lists = append(c.lists, v4)
	}
	return int64(roaring.FastOr(c.dict...).GetCardinality()) + c.distinct()
}

// distinct counts the numbers of the union of c.lists, each ascending
// without repeats, by merging pairs of lists until one is left: the
// merges of a level write into one of c's two arenas, read by the next.
func (c *Counter) distinct() int64 {
	lists := c.lists
	total := 0
	for _, l := range lists {
		total += len(l)
	}
	side := 0
	for len(lists) > 1 {
		out := c.arena[side][:0]
		if cap(out) < total {
			out = make([]uint32, 0, total)
		}
		next := lists[:0]
		for i := 0; i < len(lists); i += 2 {
			if i+1 == len(lists) {
				at := len(out)
				out = append(out, lists[i]...)
				next = append(next, out[at:])
				continue
			}
			at := len(out)
			out = mergeDistinct(out, lists[i], lists[i+1])
			next = append(next, out[at:])
		}
		c.arena[side] = out
		lists, side = next, 1-side
	}
	return int64(len(lists[0]))
}

// mergeDistinct appends to out the numbers of a and b (each ascending
// without repeats) in ascending order, each once.
func mergeDistinct(out, a, b []uint32) []uint32 {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x, y := a[i], b[j]
		switch {
		case x < y:
			out = append(out, x)
			i++
		case y < x:
			out = append(out, y)
			j++
		default:
			out = append(out, x)
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
