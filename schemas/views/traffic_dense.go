package views

import "github.com/axiomhq/hyperloglog"

// Densify switches both sketches to the dense representation (2^14 one-byte
// registers each), keeping what they hold: the registers are the same as
// if every element had been inserted dense.
//
// A sketch starts sparse, which is small and near exact for a few hundred
// elements, but every 164 new elements it merges them into its sorted
// sparse list, rewriting the whole list, until the list reaches 16 KiB: a
// pane with thousands of visitors spends most of its insert time there.
// Speed densifies a pane's sketches once it is large (at a fixed event
// count, so that the representation, like the rest of the state, depends
// only on the events in order).
func (t *Traffic) Densify() {
	t.UV = denseSketch(t.UV)
	t.IPs = denseSketch(t.IPs)
}

func denseSketch(sk *hyperloglog.Sketch) *hyperloglog.Sketch {
	d := hyperloglog.NewNoSparse()
	_ = d.Merge(sk) // errors only on precision mismatch; all sketches here are p=14
	return d
}
