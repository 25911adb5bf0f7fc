package patterns

import (
	"testing"
)

// FuzzMiner feeds arbitrary bytes (binary junk, huge tokens, broken UTF-8)
// to the miner: it must never panic, the fast shape key must agree with
// the full tokenizer, and the line must map to a pattern whose id is its
// template's.
func FuzzMiner(f *testing.F) {
	for _, s := range []string{
		"", " ", "Accepted connection from 10.0.0.1:5000",
		"user=\"john doe\" took 12 ms", "Jan  5 10:00:00 KB \x00\xff\xfe",
		"\"unterminated quote", "a\tb\r\nc", "blk_-123 /var/x.log http://h/p?q=1",
		"sent 4464 bytes (4.35 KB) to h-1/10.0.0.1:80 via ssh2", "ids 4|9|12 on node-3 CPU#0 u0 org.a.Bc.D",
		"state (0=idle,1=busy) Rect(0, 0 - 1, 2) at Pool$E@5f3",
		"Apache/2.2.3 (Fedora) Jun 17 configured", "nginx/1.1 (x), 5 KB env.createBean2(): 30_40 (y)", "sent 5 bytes (2 KB) ok",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var sc scratch
		got := sc.shapeKey(msg)
		sc.tokenize(msg)
		if want := keyHash(msg, sc.units); got != want {
			t.Fatalf("shapeKey(%q) = %x, keyHash of its units = %x", msg, got, want)
		}
		m := NewMiner(Options{})
		id := m.Add(msg)
		p, ok := m.Match(msg)
		if !ok || p.ID != id {
			t.Fatalf("Match after Add: %v %v, want %s", p.ID, ok, id)
		}
		if p.ID != TemplateID(p.Template) {
			t.Fatalf("pattern id %s is not the id of its template %q", p.ID, p.Template)
		}
	})
}
