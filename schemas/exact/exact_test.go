package exact

import "testing"

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
}
