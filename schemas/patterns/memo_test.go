package patterns

import "testing"

// TestClassifyMemo checks that the cache answers as classify does, for
// every token of the Loghub samples and the tricky words, first seen and
// seen again, with the rules on and each rule off.
func TestClassifyMemo(t *testing.T) {
	var toks [][]byte
	for _, w := range trickyWords {
		toks = append(toks, []byte(w))
	}
	toks = append(toks, []byte("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p."), []byte("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"))
	for _, ds := range loadLoghub(t) {
		for _, msg := range ds.contents(t) {
			for s, e, _ := nextToken(msg, 0); s < len(msg); s, e, _ = nextToken(msg, e) {
				toks = append(toks, msg[s:e])
			}
		}
	}
	for _, off := range []rule{0, rMultiValue, rNumberedName, rClassShown} {
		var mc memo
		for pass := 0; pass < 2; pass++ {
			for _, b := range toks {
				_, _, fl := nextToken(b, 0)
				k, vs, ve := mc.classify(b, fl, off)
				wk, wvs, wve := classify(b, fl, off)
				if k != wk || vs != wvs || ve != wve {
					t.Fatalf("off %b pass %d: memo.classify(%q) = %d %d %d, classify = %d %d %d", off, pass, b, k, vs, ve, wk, wvs, wve)
				}
			}
		}
	}
}
