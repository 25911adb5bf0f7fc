package views

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/axiomhq/hyperloglog"

	"github.com/loglambda/loglambda/schemas/event"
)

// TestTrafficDensify checks that densifying at any point gives the same
// registers as inserting every element into dense sketches from the start,
// and that the dense state survives its encoding.
func TestTrafficDensify(t *testing.T) {
	for _, tt := range []struct{ n, at int }{{0, 0}, {10, 5}, {1000, 1}, {5000, 1024}, {5000, 4999}} {
		t.Run(fmt.Sprintf("n%d-at%d", tt.n, tt.at), func(t *testing.T) {
			tr := NewTraffic()
			ref := &Traffic{UV: hyperloglog.NewNoSparse(), IPs: hyperloglog.NewNoSparse()}
			for i := range tt.n {
				if i == tt.at {
					tr.Densify()
				}
				ev := event.Event{User: fmt.Sprintf("u%d", i%2000), IP: fmt.Sprintf("10.0.%d.%d", i%30, i%250)}
				tr.Add(&ev)
				ref.Add(&ev)
			}
			tr.Densify()
			got, err := tr.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			want, _ := ref.MarshalBinary()
			if !bytes.Equal(got, want) {
				t.Fatalf("densified state differs from dense inserts (uv %d vs %d)", tr.UVCount(), ref.UVCount())
			}
			back := NewTraffic()
			if err := back.UnmarshalBinary(got); err != nil {
				t.Fatal(err)
			}
			if back.UVCount() != ref.UVCount() || back.IPCount() != ref.IPCount() {
				t.Fatalf("decoded uv %d ips %d, want %d %d", back.UVCount(), back.IPCount(), ref.UVCount(), ref.IPCount())
			}
		})
	}
}
