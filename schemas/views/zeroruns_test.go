package views

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/axiomhq/hyperloglog"

	"github.com/loglambda/loglambda/schemas/event"
)

func TestZeroRunsRoundTrip(t *testing.T) {
	for _, src := range [][]byte{
		nil, {0}, {1}, {0, 0, 0}, {1, 2, 3}, {0, 0, 5, 0, 0}, {7, 0, 0, 0, 0, 0, 0, 9, 0},
		append(make([]byte, 8000), 3), bytes.Repeat([]byte{0, 0, 0, 0, 0, 1}, 500),
	} {
		enc := appendZeroRuns(nil, src)
		got, err := zeroRuns(enc)
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("%v: decoded %v, %v", src, got, err)
		}
	}
	for _, bad := range [][]byte{
		{},                 // no length
		{3, 5},             // a run past the length
		{2, 0},             // missing byte
		{1, 0, 4, 9},       // bytes after the end
		{0xff, 0xff, 0x7f}, // length beyond the bound
	} {
		if _, err := zeroRuns(bad); err == nil {
			t.Errorf("%v decoded without error", bad)
		}
	}
}

// TestTrafficVersions checks that a dense state shrinks, round-trips, and
// that states stored in version 1 are still read.
func TestTrafficVersions(t *testing.T) {
	tr := NewTraffic()
	for i := range 1500 {
		ev := event.Event{User: fmt.Sprintf("u%d", i%900), IP: fmt.Sprintf("10.1.%d.%d", i%40, i%200), Status: 200, Bytes: int64(i)}
		tr.Add(&ev)
	}
	tr.Densify()
	enc, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	v1 := encodeV1(t, tr)
	t.Logf("dense traffic state: %d bytes, %d in version 1", len(enc), len(v1))
	if len(enc) > len(v1)/2 {
		t.Errorf("dense state of %d bytes, version 1 had %d: zero runs do not pay", len(enc), len(v1))
	}
	for name, data := range map[string][]byte{"v2": enc, "v1": v1} {
		back := NewTraffic()
		if err := back.UnmarshalBinary(data); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		again, _ := back.MarshalBinary()
		if !bytes.Equal(again, enc) || back.PV != tr.PV || back.UVCount() != tr.UVCount() || back.IPCount() != tr.IPCount() {
			t.Errorf("%s: decoded state differs", name)
		}
	}
}

// encodeV1 is version 1 of Traffic.MarshalBinary, as stored before
// version 2: the sketches as they encode themselves.
func encodeV1(t *testing.T, tr *Traffic) []byte {
	t.Helper()
	b := tr.appendCounters([]byte{1})
	for _, sk := range []*hyperloglog.Sketch{tr.UV, tr.IPs} {
		enc, err := sk.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	}
	return b
}
