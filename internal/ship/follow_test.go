package ship

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/loglambda/loglambda/internal/tail"
	"github.com/loglambda/loglambda/internal/testkit"
)

func numbered(prefix string, from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf(`{"msg":"%s line %05d","user":"u%d"}`, prefix, i, i%9))
	}
	return out
}

// TestShipFollowRotateTruncate follows a file through appends, a rotation
// by rename + create (with lines appended to the old file before the new
// one appears) and a truncation, then stops by ctx: every line arrives
// exactly once, and the position file points at the end of the new file.
func TestShipFollowRotateTruncate(t *testing.T) {
	k := startKafka(t, 3)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	posFile := filepath.Join(dir, "positions.json")
	var want []string
	add := func(p string, lines []string) {
		appendTo(t, p, lines)
		want = append(want, lines...)
	}
	add(path, numbered("first", 0, 200))

	s, err := New(k.Addrs(), Key("user"), Follow(true), PollInterval(10*time.Millisecond),
		PositionFile(posFile), PositionInterval(20*time.Millisecond), Linger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		sum Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := s.Run(ctx, path)
		done <- result{sum, err}
	}()

	waitRecords(t, k.Addrs(), len(want))
	add(path, numbered("append", 0, 100))
	// Rotate: the logger's file is renamed, it writes a few more lines
	// to it (it still has it open), then reopens the path.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	add(path+".1", numbered("old-after-rename", 0, 50))
	add(path, numbered("new", 0, 150))
	waitRecords(t, k.Addrs(), len(want))
	// Truncate (copytruncate style) and write fewer bytes than were there.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	add(path, numbered("after-truncate", 0, 20))
	waitRecords(t, k.Addrs(), len(want))
	cancel()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.sum.Rotations != 1 || res.sum.Truncations != 1 {
		t.Fatalf("rotations %d, truncations %d; want 1 and 1", res.sum.Rotations, res.sum.Truncations)
	}
	if res.sum.AckedLines != int64(len(want)) {
		t.Fatalf("acked lines %d, want %d", res.sum.AckedLines, len(want))
	}
	checkExactlyOnce(t, consumeAll(t, k.Addrs(), testTopic), want)

	pos, err := tail.LoadPositions(posFile)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	fi, _ := os.Stat(path)
	if got := pos[abs]; got.Offset != fi.Size() || got.Inode == 0 {
		t.Fatalf("position %+v, want offset %d of the new file", got, fi.Size())
	}
}

// TestShipRestart stops the shipper mid-file and restarts it with the same
// position file: the topic then holds every line exactly once.
func TestShipRestart(t *testing.T) {
	k := startKafka(t, 4)
	dir := t.TempDir()
	lines := numbered("restart", 0, 60000)
	path := writeFile(t, dir, "big.log", lines)
	posFile := filepath.Join(dir, "positions.json")
	opts := []Opt{Key("user"), PositionFile(posFile), MaxBufferedRecords(64), Linger(2 * time.Millisecond)}

	s, err := New(k.Addrs(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Stop once a few thousand records are in.
		waitRecords(t, k.Addrs(), 3000)
		cancel()
	}()
	first, err := s.Run(ctx, path)
	s.Close()
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if first.AckedLines >= int64(len(lines)) || first.AckedLines < 3000 {
		t.Fatalf("first run acked %d of %d lines: not stopped mid-file", first.AckedLines, len(lines))
	}
	pos, err := tail.LoadPositions(posFile)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	if want := int64(len(strings.Join(lines[:first.AckedLines], "\n")) + 1); pos[abs].Offset != want {
		t.Fatalf("position %d after %d acked lines, want %d", pos[abs].Offset, first.AckedLines, want)
	}

	second := shipAll(t, k.Addrs(), opts, path)
	if first.AckedLines+second.AckedLines != int64(len(lines)) {
		t.Fatalf("acked %d + %d lines, want %d", first.AckedLines, second.AckedLines, len(lines))
	}
	checkExactlyOnce(t, consumeAll(t, k.Addrs(), testTopic), lines)
}

// TestShipHugeAndJunkLines ships a 5 MiB line and binary junk: the long
// line is cut to the cap, marked and counted; nothing crashes or is lost.
func TestShipHugeAndJunkLines(t *testing.T) {
	k := startKafka(t, 2)
	rng := rand.New(rand.NewPCG(1, 2))
	pat := []byte("0123456789abcdef GET /a/very/long/path?q=x ")
	huge := bytes.Repeat(pat, 5<<20/len(pat)+1)[:5<<20]
	var junk [][]byte
	for i := 0; i < 20; i++ {
		b := make([]byte, 1+rng.IntN(300))
		for j := range b {
			b[j] = byte(rng.IntN(256))
			if b[j] == '\n' {
				b[j] = 0
			}
		}
		junk = append(junk, b)
	}
	var input bytes.Buffer
	var want []string
	for i, l := range append([][]byte{[]byte(`{"msg":"before"}`), huge}, junk...) {
		input.Write(l)
		input.WriteByte('\n')
		if i == 1 {
			want = append(want, string(l[:tail.DefaultMaxLine]))
		} else {
			want = append(want, string(l))
		}
	}
	input.WriteString(`{"msg":"last line without newline"}`)
	want = append(want, `{"msg":"last line without newline"}`)

	for _, tc := range []struct {
		name  string
		input func(t *testing.T) (string, Opt)
	}{
		{"file", func(t *testing.T) (string, Opt) {
			p := filepath.Join(t.TempDir(), "junk.log")
			if err := os.WriteFile(p, input.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			return p, Topic(testTopic)
		}},
		{"stdin", func(t *testing.T) (string, Opt) { return "-", Stdin(bytes.NewReader(input.Bytes())) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "junk-" + tc.name
			in, opt := tc.input(t)
			createTopic(t, k.Addrs(), topic)
			sum := shipAll(t, k.Addrs(), []Opt{opt, Topic(topic), Key("user")}, in)
			if sum.Lines != int64(len(want)) || sum.AckedLines != int64(len(want)) || sum.Truncated != 1 || sum.Failed != 0 {
				t.Fatalf("summary %+v: want %d lines acked, 1 truncated", sum, len(want))
			}
			if sum.ParseErrors != int64(len(junk)+1) {
				t.Fatalf("parse errors %d, want %d (junk and the cut line)", sum.ParseErrors, len(junk)+1)
			}
			recs := consumeAll(t, k.Addrs(), topic)
			checkExactlyOnce(t, recs, want)
			for _, r := range recs {
				tr, ok := header(r, "truncated")
				if isHuge := len(r.Value) == tail.DefaultMaxLine; isHuge != ok || (ok && tr != strconv.Itoa(len(huge))) {
					t.Fatalf("record of %d bytes: truncated header %q (present %v), want %d on the cut line only", len(r.Value), tr, ok, len(huge))
				}
			}
		})
	}
}

// createTopic creates topic with 2 partitions.
func createTopic(t testing.TB, addrs []string, topic string) {
	t.Helper()
	cl := testkit.KafkaClient(t, addrs)
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
}

// TestShipBrokerDown: with no broker the records fail or stay
// unacknowledged, Run says so, and the position file does not move.
func TestShipBrokerDown(t *testing.T) {
	dir := t.TempDir()
	lines := numbered("down", 0, 50)
	path := writeFile(t, dir, "a.log", lines)
	posFile := filepath.Join(dir, "pos.json")
	s, err := New([]string{"127.0.0.1:1"}, PositionFile(posFile), FlushTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sum, err := s.Run(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "50 of 50 records not delivered") {
		t.Fatalf("error %v, want 50 of 50 records not delivered", err)
	}
	if sum.Acked != 0 || sum.Failed+sum.Unacked != 50 {
		t.Fatalf("summary %+v: want 50 failed or unacknowledged", sum)
	}
	pos, err := tail.LoadPositions(posFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(pos) != 0 {
		t.Fatalf("positions %v written without acknowledgements", pos)
	}
}
