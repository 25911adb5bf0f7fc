package exact

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// TestIPv4 checks that only the canonical spelling of an IPv4 address is
// its own number: DuckDB counts other spellings as other strings.
func TestIPv4(t *testing.T) {
	for _, c := range []struct {
		s    string
		want uint32
		ok   bool
	}{
		{"10.0.0.1", 10<<24 | 1, true},
		{"255.255.255.255", 1<<32 - 1, true},
		{"0.0.0.0", 0, true},
		{"010.0.0.1", 0, false},
		{"10.0.0.1 ", 0, false},
		{"::ffff:10.0.0.1", 0, false},
		{"2001:db8::1", 0, false},
		{"", 0, false},
		{"user7", 0, false},
	} {
		got, ok := IPv4(c.s)
		if got != c.want || ok != c.ok {
			t.Errorf("IPv4(%q) = %d, %v; want %d, %v", c.s, got, ok, c.want, c.ok)
		}
	}
}

// TestDecodeRefusesDamage checks that a cut or padded encoding is an
// error, never a panic or a smaller set.
func TestDecodeRefusesDamage(t *testing.T) {
	s := NewSet()
	s.V4.Add(7)
	s.Dict.AddRange(0, 5000)
	h := &Hour{PaneSecs: 60, Panes: []int64{0}, UV: []Set{s}, IPs: []Set{s}, HourUV: s, HourIPs: s}
	enc, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(enc)
	if err != nil || got.HourUV.Len() != 5001 || got.IPs[0].Len() != 5001 {
		t.Fatalf("decode: %v, %v", got, err)
	}
	for _, bad := range [][]byte{enc[:len(enc)-1], append(append([]byte{}, enc...), 0), enc[:3], {9}} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("decode of %d damaged bytes: no error", len(bad))
		}
	}
	// A set's ids are read on first use: damage there is an error of the
	// count, not a wrong count.
	ids := func(v4 ...uint32) []byte {
		b := binary.AppendUvarint(nil, uint64(len(v4)))
		for _, v := range v4 {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		d, err := roaring.BitmapOf(1, 2).ToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return append(b, d...)
	}
	for _, bad := range []struct {
		name string
		r    *readSet
	}{
		{"length not the index's", &readSet{n: 5, data: ids(3, 4)}},
		{"not ascending", &readSet{n: 4, data: ids(4, 3)}},
		{"repeated", &readSet{n: 4, data: ids(3, 3)}},
		{"cut", &readSet{n: 4, data: ids(3, 4)[:12]}},
		{"padded", &readSet{n: 4, data: append(ids(3, 4), 0)}},
	} {
		var c Counter
		c.add(Set{read: bad.r}, s)
		c.add(s, s)
		if _, _, err := c.Counts(); err == nil {
			t.Errorf("%s: counted, no error", bad.name)
		}
	}
	var c Counter
	c.add(Set{read: &readSet{n: 4, data: ids(3, 4)}}, s)
	c.add(s, s)
	if uv, _, err := c.Counts(); err != nil || uv != 5003 {
		t.Errorf("undamaged: uv %d, %v; want 5003", uv, err)
	}
}

// TestCounterUnion checks Counter's counts of a union of panes against a
// Go map of the same ids: IPv4 sets spread over the whole address space
// (counted by sorting) and dense dictionary ids (counted by OR), with ids
// shared between panes, a range of part of an hour, and a whole hour.
func TestCounterUnion(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	pool := make([]uint32, 5000)
	for i := range pool {
		pool[i] = r.Uint32()
	}
	h := &Hour{Hour: time.Unix(36000, 0).UTC(), PaneSecs: 60, HourUV: NewSet(), HourIPs: NewSet()}
	type ids struct{ v4, dict map[uint32]bool }
	var want []ids
	for p := range 60 {
		uv, ips := NewSet(), NewSet()
		w := ids{map[uint32]bool{}, map[uint32]bool{}}
		for range 400 {
			v := pool[r.IntN(len(pool))]
			ips.V4.Add(v)
			w.v4[v] = true
			d := uint32(r.IntN(3000))
			uv.Dict.Add(d)
			w.dict[d] = true
		}
		h.Panes = append(h.Panes, 36000+int64(p)*60)
		h.UV, h.IPs = append(h.UV, uv), append(h.IPs, ips)
		if err := h.HourUV.Or(uv); err != nil {
			t.Fatal(err)
		}
		if err := h.HourIPs.Or(ips); err != nil {
			t.Fatal(err)
		}
		want = append(want, w)
	}
	if err := h.AddQuarters(); err != nil {
		t.Fatal(err)
	}
	full, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	hourOnly, err := h.HourOnly().Encode()
	if err != nil {
		t.Fatal(err)
	}
	read := func(enc []byte) *Hour {
		got, err := Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// The same hour built, read back, read back without panes, read from
	// version 1 (no quarters), and without quarters.
	noQuarters := read(full)
	noQuarters.QuarterUV, noQuarters.QuarterIPs = nil, nil
	hours := []struct {
		name  string
		h     *Hour
		panes bool
	}{
		{"built", h, true}, {"read", read(full), true}, {"hour only", read(hourOnly), false},
		{"version 1", read(encodeV1(t, h)), true}, {"no quarters", noQuarters, true},
	}
	if !hours[1].h.HasQuarters() || !hours[2].h.HasQuarters() || hours[3].h.HasQuarters() {
		t.Fatal("quarters not read back as written")
	}
	var c Counter
	for _, tc := range []struct{ from, to int64 }{
		{36000, 36060}, {36000 + 7*60, 36000 + 22*60}, {36000 + 60, 39600}, {0, 1 << 40},
		{36000, 36900}, {36900, 37800}, {38700, 39600}, {36900, 38700}, {0, 36900}, {37800, 1 << 40},
	} {
		v4, dict := map[uint32]bool{}, map[uint32]bool{}
		for i, p := range h.Panes {
			if p >= tc.from && p < tc.to {
				for k := range want[i].v4 {
					v4[k] = true
				}
				for k := range want[i].dict {
					dict[k] = true
				}
			}
		}
		onQuarters := mod(tc.from-36000, QuarterSecs) == 0 && mod(tc.to-36000, QuarterSecs) == 0
		for _, x := range hours {
			if !x.panes && !onQuarters {
				continue
			}
			c.Reset()
			c.Add(x.h, tc.from, tc.to)
			uv, ipn, err := c.Counts()
			if err != nil {
				t.Fatal(err)
			}
			if uv != int64(len(dict)) || ipn != int64(len(v4)) {
				t.Errorf("%s [%d, %d): counted uv %d ips %d, want %d %d", x.name, tc.from, tc.to, uv, ipn, len(dict), len(v4))
			}
		}
	}
	// A read hour shared by concurrent counts (serving's cache): its
	// sets' ids are read once, by whichever count comes first.
	shared := read(full)
	wantUV, wantIPs := hours[0].h.HourUV.Len(), hours[0].h.HourIPs.Len()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			var c Counter
			c.Add(shared, 36000, 36900)
			c.Add(shared, 36900, 36960)
			c.Add(shared, 36960, 39600)
			uv, ipn, err := c.Counts()
			if err == nil && (uv != wantUV || ipn != wantIPs) {
				err = fmt.Errorf("concurrent count: uv %d ips %d, want %d %d", uv, ipn, wantUV, wantIPs)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}

	// Several hours' sets at once: the merge of more than two lists.
	c.Reset()
	for _, x := range hours {
		c.Add(x.h, 36000, 36000+15*60)
	}
	c.Add(hours[0].h, 36000+60, 36000+5*60)
	if uv, ipn, err := c.Counts(); err != nil || uv != hours[0].h.QuarterUV[0].Len() || ipn != hours[0].h.QuarterIPs[0].Len() {
		t.Errorf("a quarter added %d times: uv %d ips %d, want %d %d", len(hours)+1, uv, ipn, hours[0].h.QuarterUV[0].Len(), hours[0].h.QuarterIPs[0].Len())
	}
}

func mod(a, b int64) int64 { return (a%b + b) % b }

// encodeV1 returns h in the encoding of version 1 (lakes recomputed
// before version 2): every bitmap in roaring's portable format, no
// quarters.
func encodeV1(tb testing.TB, h *Hour) []byte {
	tb.Helper()
	b := []byte{version1}
	b = binary.AppendVarint(b, h.Hour.Unix())
	b = binary.AppendVarint(b, h.Generation)
	b = binary.AppendVarint(b, h.PaneSecs)
	b = binary.AppendUvarint(b, uint64(len(h.Panes)))
	for _, p := range h.Panes {
		b = binary.AppendVarint(b, p)
	}
	sets := []Set{}
	for i := range h.Panes {
		sets = append(sets, h.UV[i], h.IPs[i])
	}
	for _, s := range append(sets, h.HourUV, h.HourIPs) {
		for _, bm := range []*roaring.Bitmap{s.V4, s.Dict} {
			buf, err := bm.ToBytes()
			if err != nil {
				tb.Fatal(err)
			}
			b = binary.AppendUvarint(b, uint64(len(buf)))
			b = append(b, buf...)
		}
	}
	return b
}
