package views

import (
	"unsafe"

	"github.com/axiomhq/hyperloglog"
	metro "github.com/dgryski/go-metro"

	"github.com/loglambda/loglambda/schemas/event"
)

// LatencyBounds are the upper bounds (ms, inclusive) of the latency
// histogram buckets; a last bucket holds everything slower.
var LatencyBounds = [...]float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}

// Traffic is the traffic view of a pane or window: page views, unique
// visitors and distinct client IPs, status classes, bytes and latency.
//
// UV and IPs are HyperLogLog++ sketches of precision 14 (about 0.8 %
// standard error), which merge by union. Batch panes also carry the exact
// distinct counts; those cannot be merged (a union of sets is not a sum of
// counts), so a merge of two non-empty states keeps only the sketches.
type Traffic struct {
	PV  int64
	UV  *hyperloglog.Sketch
	IPs *hyperloglog.Sketch
	// ExactUV and ExactIPs are valid when HasExact is set.
	ExactUV, ExactIPs int64
	HasExact          bool
	// Status counts responses by class: index 1..5 for 1xx..5xx, 0 for
	// events without a status.
	Status [6]int64
	Bytes  int64
	// Latency is a histogram over LatencyBounds (plus an overflow bucket)
	// of events that carry a latency; LatencySum is their sum in ms.
	Latency    [len(LatencyBounds) + 1]int64
	LatencySum float64
}

// stringBytes is s's own bytes as a slice, for a call that only reads
// them and keeps nothing (Sketch.Insert hashes them): []byte(s) copied
// both identities of every event.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// NewTraffic returns the empty traffic state.
func NewTraffic() *Traffic {
	return &Traffic{UV: hyperloglog.New14(), IPs: hyperloglog.New14()}
}

// Add folds one event in.
//
// A visitor without a user is its IP (event.Visitor): its hash is taken
// once for both sketches, as the sketches' own Insert takes it (hllHash).
func (t *Traffic) Add(ev *event.Event) {
	t.PV++
	id := ev.Visitor()
	if ev.IP != "" {
		h := hllHash(ev.IP)
		t.IPs.InsertHash(h)
		if id == ev.IP {
			t.UV.InsertHash(h)
			id = ""
		}
	}
	if id != "" {
		t.UV.InsertHash(hllHash(id))
	}
	t.addFields(ev.Status, ev.Bytes, ev.LatencyMS)
}

// hllHash is the hash hyperloglog.Sketch.Insert takes of its argument
// (metro.Hash64, seed 1337, in the library's utils.go; TestHLLHash holds
// the two equal), so that a string inserted into two sketches is hashed
// once.
func hllHash(s string) uint64 { return metro.Hash64(stringBytes(s), 1337) }

// addFields counts the status class, bytes and latency of one event.
func (t *Traffic) addFields(status int32, bytes int64, latency float64) {
	cls := int(status / 100)
	if cls < 1 || cls > 5 {
		cls = 0
	}
	t.Status[cls]++
	t.Bytes += bytes
	if latency > 0 {
		t.Latency[LatencyBucket(latency)]++
		t.LatencySum += latency
	}
}

// LatencyBucket returns the histogram bucket of a latency in ms.
func LatencyBucket(ms float64) int {
	for i, b := range LatencyBounds {
		if ms <= b {
			return i
		}
	}
	return len(LatencyBounds)
}

// mergeExact returns the exact distinct counts of a state of pv events
// (exact uv and ips when has) merged with one of opv events (ouv, oips,
// ohas): a union with an empty state keeps them, a state that was empty
// takes the other's, and any other union has none (distinct counts do not
// add up). Traffic.Merge and TrafficCounter both apply it.
func mergeExact(pv, uv, ips int64, has bool, opv, ouv, oips int64, ohas bool) (int64, int64, bool) {
	switch {
	case opv == 0:
		return uv, ips, has
	case pv == 0:
		return ouv, oips, ohas
	default:
		return uv, ips, false
	}
}

// Merge adds o into t; o is not changed.
func (t *Traffic) Merge(o *Traffic) {
	if o == nil {
		return
	}
	t.ExactUV, t.ExactIPs, t.HasExact = mergeExact(t.PV, t.ExactUV, t.ExactIPs, t.HasExact, o.PV, o.ExactUV, o.ExactIPs, o.HasExact)
	t.PV += o.PV
	// Merge errors only on precision mismatch; all sketches here are p=14.
	_ = t.UV.Merge(o.UV)
	_ = t.IPs.Merge(o.IPs)
	for i := range t.Status {
		t.Status[i] += o.Status[i]
	}
	t.Bytes += o.Bytes
	for i := range t.Latency {
		t.Latency[i] += o.Latency[i]
	}
	t.LatencySum += o.LatencySum
}

// UVCount is the number of unique visitors: exact when known, else the
// sketch's estimate.
func (t *Traffic) UVCount() int64 {
	if t.HasExact {
		return t.ExactUV
	}
	return int64(t.UV.Estimate())
}

// IPCount is the number of distinct client IPs: exact when known, else the
// sketch's estimate.
func (t *Traffic) IPCount() int64 {
	if t.HasExact {
		return t.ExactIPs
	}
	return int64(t.IPs.Estimate())
}

// Clone returns an independent copy.
func (t *Traffic) Clone() *Traffic {
	c := *t
	c.UV = t.UV.Clone()
	c.IPs = t.IPs.Clone()
	return &c
}
