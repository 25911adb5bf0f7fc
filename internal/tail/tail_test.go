package tail

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
)

// collector is a Handler that keeps copies of the lines it gets.
type collector struct {
	mu    sync.Mutex
	lines []Line
}

func (c *collector) Line(l Line) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l.Data = bytes.Clone(l.Data)
	c.lines = append(c.lines, l)
	return nil
}

func (c *collector) Idle(time.Time) error { return nil }

func (c *collector) texts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.lines))
	for i, l := range c.lines {
		out[i] = string(l.Data)
	}
	return out
}

func TestTailReadLines(t *testing.T) {
	for _, tc := range []struct {
		name      string
		input     string
		max       int
		want      []string
		sizes     []int
		truncated int
	}{
		{"plain", "a\nbb\nccc\n", 10, []string{"a", "bb", "ccc"}, []int{1, 2, 3}, 0},
		{"no final newline", "a\nlast", 10, []string{"a", "last"}, []int{1, 4}, 0},
		{"empty lines kept", "\n\nx\n", 10, []string{"", "", "x"}, []int{0, 0, 1}, 0},
		{"crlf kept raw", "a\r\nb\r\n", 10, []string{"a\r", "b\r"}, []int{2, 2}, 0},
		{"long line cut", "short\n" + strings.Repeat("x", 25) + "\nafter\n", 10,
			[]string{"short", strings.Repeat("x", 10), "after"}, []int{5, 25, 5}, 1},
		{"long line larger than the read buffer", strings.Repeat("y", 200_000) + "\nz\n", 100,
			[]string{strings.Repeat("y", 100), "z"}, []int{200_000, 1}, 1},
		{"binary junk", "\x00\xff\xfe\x01\nok\n", 10, []string{"\x00\xff\xfe\x01", "ok"}, []int{4, 2}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New("-", FromReader(strings.NewReader(tc.input)), MaxLine(tc.max))
			if err != nil {
				t.Fatal(err)
			}
			var c collector
			if err := f.Run(context.Background(), &c); err != nil {
				t.Fatal(err)
			}
			got := c.texts()
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Fatalf("lines %q, want %q", got, tc.want)
			}
			truncated := 0
			for i, l := range c.lines {
				if l.Size != tc.sizes[i] {
					t.Errorf("line %d size %d, want %d", i, l.Size, tc.sizes[i])
				}
				if l.Truncated() {
					truncated++
				}
			}
			if truncated != tc.truncated {
				t.Errorf("truncated %d, want %d", truncated, tc.truncated)
			}
			if end := c.lines[len(c.lines)-1].End.Offset; end != int64(len(tc.input)) {
				t.Errorf("last end offset %d, want %d", end, len(tc.input))
			}
		})
	}
}

func TestTailAcksInOrder(t *testing.T) {
	a := NewAcks(Position{Inode: 1, Offset: 5})
	var seqs []uint64
	for i := 1; i <= 5; i++ {
		seqs = append(seqs, a.Add(Position{Inode: 1, Offset: int64(5 + 10*i)}))
	}
	for _, step := range []struct {
		ack  int
		want int64
	}{
		{2, 5}, {1, 5}, {0, 35}, {4, 35}, {3, 55},
	} {
		a.Ack(seqs[step.ack])
		if got := a.Done().Offset; got != step.want {
			t.Fatalf("after ack %d: done %d, want %d", step.ack, got, step.want)
		}
	}
	if a.InFlight() != 0 {
		t.Fatalf("in flight %d, want 0", a.InFlight())
	}
	// Many records: the passed prefix is dropped, sequence numbers go on.
	for i := 0; i < 5000; i++ {
		a.Ack(a.Add(Position{Inode: 1, Offset: int64(100 + i)}))
	}
	if got := a.Done().Offset; got != 5099 {
		t.Fatalf("done %d, want 5099", got)
	}
}

func TestTailPositionsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.json")
	got, err := LoadPositions(path)
	if err != nil || len(got) != 0 {
		t.Fatalf("missing file: %v, %v", got, err)
	}
	want := map[string]Position{"/var/log/a.log": {Dev: 1, Inode: 2, Offset: 3}, "/b": {Inode: 9}}
	if err := SavePositions(path, want); err != nil {
		t.Fatal(err)
	}
	got, err = LoadPositions(path)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if err := os.WriteFile(path, []byte(`{"version":7}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPositions(path); err == nil || !strings.Contains(err.Error(), "version 7") {
		t.Fatalf("bad version: %v", err)
	}
}

func appendLines(t *testing.T, f *os.File, prefix string, from, to int) []string {
	t.Helper()
	var out []string
	var b strings.Builder
	for i := from; i < to; i++ {
		s := fmt.Sprintf("%s %04d", prefix, i)
		out = append(out, s)
		b.WriteString(s + "\n")
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	return out
}

// createLog creates the log file at path, empty, as a writer starting a
// file does; it is closed when the test ends if the test does not close
// it first.
func createLog(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// waitLines waits until c holds n lines.
func waitLines(t *testing.T, c *collector, n int) {
	t.Helper()
	testkit.Await(t, time.Minute, fmt.Sprintf("%d lines", n), func() error {
		if got := len(c.texts()); got < n {
			return fmt.Errorf("have %d lines, want %d", got, n)
		}
		return nil
	})
}

func TestTailFollowRotateTruncate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	f := createLog(t, path)
	var want []string
	want = append(want, appendLines(t, f, "old", 0, 100)...)
	tl, err := New(path, Follow(true), PollInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tl.Run(ctx, &c) }()
	waitLines(t, &c, len(want))
	want = append(want, appendLines(t, f, "old", 100, 150)...)
	// Rotate: rename, the writer still appends to the old file, then
	// creates the new one.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	want = append(want, appendLines(t, f, "old", 150, 170)...)
	f.Close()
	nf := createLog(t, path)
	want = append(want, appendLines(t, nf, "new", 0, 50)...)
	waitLines(t, &c, len(want))
	// Truncate and write less than was there.
	if err := nf.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := nf.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	want = append(want, appendLines(t, nf, "trunc", 0, 5)...)
	waitLines(t, &c, len(want))
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("run: %v", err)
	}
	if got := c.texts(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	if tl.Rotations() != 1 || tl.Truncations() != 1 {
		t.Fatalf("rotations %d truncations %d, want 1 and 1", tl.Rotations(), tl.Truncations())
	}
	firsts := 0
	for _, l := range c.lines {
		if l.First {
			firsts++
		}
	}
	if firsts != 3 {
		t.Fatalf("%d lines marked First, want 3 (start, rotation, truncation)", firsts)
	}
}

func TestTailResumeRotatedWhileDown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	f := createLog(t, path)
	lines := appendLines(t, f, "old", 0, 10)
	tl, _ := New(path)
	var c collector
	if err := tl.Run(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	saved := c.lines[3].End // lines 0-3 done
	// While down: more lines, rotation, a new file.
	lines = append(lines, appendLines(t, f, "old", 10, 12)...)
	f.Close()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	nf := createLog(t, path)
	lines = append(lines, appendLines(t, nf, "new", 0, 3)...)
	nf.Close()
	tl, _ = New(path, StartAt(saved))
	c = collector{}
	if err := tl.Run(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(c.texts(), ","), strings.Join(lines[4:], ","); got != want {
		t.Fatalf("resumed lines %s, want %s", got, want)
	}
}
