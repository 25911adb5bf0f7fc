package patterns

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"os"
	"slices"
	"strings"
	"testing"
)

// goldenFile holds, per Loghub sample and way of mining it, a digest of
// everything the miner answered: the ID each Add returned, each message's
// final Pattern (Match) and the patterns held (Patterns), so that a change
// made for speed alone is seen to change no template, count, ID or
// example. Written by the miner of 808a44d; rewrite it only with a change
// of the rules (MinerVersion):
//
//	LOGLAMBDA_GOLDEN_UPDATE=1 go test ./schemas/patterns -run TestGoldenLoghub
const goldenFile = "testdata/golden.txt"

// goldenRuns are the ways each sample is mined: its messages (header
// given), the same backwards (other keys open the patterns), the whole
// lines with StripHeader (auto) and as they are, and the messages with
// each rule off, the held-out score's miners, and under a small
// MaxPatterns (evictions).
func goldenRuns(t *testing.T, ds dataset) (names []string, msgs [][][]byte, opts []Options) {
	add := func(name string, m [][]byte, o Options) {
		names, msgs, opts = append(names, name), append(msgs, m), append(opts, o)
	}
	c := ds.contents(t)
	add("messages", c, Options{})
	rev := slices.Clone(c)
	slices.Reverse(rev)
	add("reversed", rev, Options{})
	add("auto", autoContents(ds.lines), Options{})
	add("lines", ds.lines, Options{})
	// (The first 500 messages only: a rule shows in a sample's first
	// patterns, and the test stays a few seconds.)
	for r := range len(ruleNames) {
		add("off-"+ruleNames[r], c[:min(len(c), 500)], Options{off: 1 << r})
	}
	add("cap-50", c, Options{MaxPatterns: 50})
	return names, msgs, opts
}

// goldenDigest mines msgs and digests the miner's answers.
func goldenDigest(msgs [][]byte, opt Options) string {
	m := NewMiner(opt)
	h := sha256.New()
	for _, msg := range msgs {
		writeU(h, uint64(m.Add(msg)))
	}
	for _, msg := range msgs {
		p, ok := m.Match(msg)
		writePattern(h, p)
		if ok {
			h.Write([]byte{1})
		}
	}
	for _, p := range m.Patterns() {
		writePattern(h, p)
	}
	writeU(h, m.Evicted())
	return fmt.Sprintf("%x", h.Sum(nil)[:16])
}

func writeU(h hash.Hash, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	h.Write(b[:])
}

func writePattern(h hash.Hash, p Pattern) {
	writeU(h, uint64(p.ID))
	writeU(h, p.Count)
	fmt.Fprintf(h, "%q %q\n", p.Template, p.Example)
}

// TestGoldenLoghub checks the miner's answers on every Loghub sample,
// mined every way of goldenRuns, against the digests of goldenFile.
func TestGoldenLoghub(t *testing.T) {
	got := map[string]string{}
	var keys []string
	for _, ds := range loadLoghub(t) {
		names, msgs, opts := goldenRuns(t, ds)
		for i, name := range names {
			k := ds.name + " " + name
			got[k] = goldenDigest(msgs[i], opts[i])
			keys = append(keys, k)
		}
	}
	if os.Getenv("LOGLAMBDA_GOLDEN_UPDATE") != "" {
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s %s\n", k, got[k])
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d digests to %s", len(keys), goldenFile)
		return
	}
	raw, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("read %s: %v", goldenFile, err)
	}
	want := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			t.Fatalf("%s: bad line %q", goldenFile, sc.Text())
		}
		want[f[0]+" "+f[1]] = f[2]
	}
	bad := 0
	for _, k := range keys {
		w, ok := want[k]
		switch {
		case !ok:
			t.Errorf("%s: no digest in %s", k, goldenFile)
		case w != got[k]:
			t.Errorf("%s: digest %s, want %s (the miner's answers changed)", k, got[k], w)
			bad++
		}
	}
	if len(want) != len(keys) {
		t.Errorf("%s holds %d digests, the runs are %d", goldenFile, len(want), len(keys))
	}
	t.Logf("%d runs checked, %d changed", len(keys), bad)
}
