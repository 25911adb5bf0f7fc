package formats

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

const javaStart = `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`

// feed runs lines through m, one second apart from t0, and flushes at the
// end; it returns the group texts.
func feed(m *Multiline, t0 time.Time, lines []string) []MultilineGroup {
	var out []MultilineGroup
	for i, l := range lines {
		if g, ok := m.Add([]byte(l), t0.Add(time.Duration(i)*time.Millisecond)); ok {
			out = append(out, g)
		}
	}
	if g, ok := m.Flush(); ok {
		out = append(out, g)
	}
	return out
}

func texts(gs []MultilineGroup) []string {
	var s []string
	for _, g := range gs {
		s = append(s, string(g.Text))
	}
	return s
}

func TestMultilineJavaStackTrace(t *testing.T) {
	lines := []string{
		"2024-05-17 10:05:03 INFO  start",
		"2024-05-17 10:05:04 ERROR request failed",
		"java.lang.IllegalStateException: boom",
		"\tat com.example.Cart.add(Cart.java:42)",
		"\tat com.example.Api.handle(Api.java:17)",
		"Caused by: java.io.IOException: closed",
		"\t... 12 more",
		"2024-05-17 10:05:05 INFO  next",
	}
	m, err := NewMultiline(javaStart)
	if err != nil {
		t.Fatal(err)
	}
	got := feed(m, testIngest, lines)
	want := []string{lines[0], strings.Join(lines[1:7], "\n"), lines[7]}
	if fmt.Sprint(texts(got)) != fmt.Sprint(want) {
		t.Fatalf("groups:\n%q\nwant\n%q", texts(got), want)
	}
	if got[1].Lines != 6 || got[1].Split {
		t.Errorf("trace group: %d lines, split %v; want 6, false", got[1].Lines, got[1].Split)
	}
}

func TestMultilineDB2Record(t *testing.T) {
	rec1 := []string{
		"2014-10-19-12.19.46.033037-300 I5484A357          LEVEL: Error",
		"PID     : 4325                 TID : 1           PROC : db2sysc 0",
		"INSTANCE: db2inst1             NODE : 000         DB   : SAMPLE",
		"FUNCTION: DB2 UDB, base sys utilities, sqleStartUsingDatabase, probe:1",
		"MESSAGE : database not started",
		"",
	}
	rec2 := []string{
		"2014-10-19-12.19.47.000001-300 I5842A300          LEVEL: Info",
		"MESSAGE : started",
	}
	m, err := NewMultiline(`^\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}\.\d+`)
	if err != nil {
		t.Fatal(err)
	}
	got := feed(m, testIngest, append(append([]string{}, rec1...), rec2...))
	want := []string{strings.Join(rec1, "\n"), strings.Join(rec2, "\n")}
	if fmt.Sprint(texts(got)) != fmt.Sprint(want) {
		t.Fatalf("groups:\n%q\nwant\n%q", texts(got), want)
	}
	// The grouped record parses as one event with the header's time.
	p := mustParser(t, "regex:"+db2Header)
	ev := ParseLine(p, nil, got[0].Text, testIngest)
	if ev.ParseError != "" || !ev.Time.Equal(utc(2014, 10, 19, 17, 19, 46, 33037000)) || ev.Level != "ERROR" {
		t.Errorf("parsed record: %+v", ev)
	}
}

func TestMultilineLeadingContinuation(t *testing.T) {
	m, _ := NewMultiline(javaStart)
	got := texts(feed(m, testIngest, []string{"\tat orphan", "\tat orphan2", "2024-05-17 10:05:03 x"}))
	want := []string{"\tat orphan\n\tat orphan2", "2024-05-17 10:05:03 x"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMultilineMaxLines(t *testing.T) {
	m, err := NewMultiline(javaStart, MultilineMaxLines(3))
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{"2024-05-17 10:05:03 E", "a", "b", "c", "d", "e", "f", "g"}
	got := feed(m, testIngest, lines)
	want := []string{"2024-05-17 10:05:03 E\na\nb", "c\nd\ne", "f\ng"}
	if fmt.Sprint(texts(got)) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", texts(got), want)
	}
	if !got[0].Split || !got[1].Split || got[2].Split {
		t.Errorf("split flags %v %v %v, want true true false", got[0].Split, got[1].Split, got[2].Split)
	}
}

func TestMultilineMaxBytes(t *testing.T) {
	m, err := NewMultiline(javaStart, MultilineMaxBytes(30))
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("x", 100)
	lines := []string{"2024-05-17 10:05:03 E", "12345678", "9", huge, "tail"}
	got := feed(m, testIngest, lines)
	// 21 bytes + "\n12345678" = 30 fits; "\n9" would pass 30. The huge line
	// is its own event, never truncated.
	want := []string{"2024-05-17 10:05:03 E\n12345678", "9", huge, "tail"}
	if fmt.Sprint(texts(got)) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", texts(got), want)
	}
	for i, g := range got[:3] {
		if !g.Split {
			t.Errorf("group %d not marked split", i)
		}
	}
}

func TestMultilineTimeout(t *testing.T) {
	m, err := NewMultiline(javaStart, MultilineTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t0 := testIngest
	if _, ok := m.Deadline(); ok {
		t.Fatal("deadline with nothing pending")
	}
	if _, ok := m.Expire(t0.Add(time.Hour)); ok {
		t.Fatal("expired with nothing pending")
	}
	m.Add([]byte("2024-05-17 10:05:03 ERROR x"), t0)
	m.Add([]byte("\tat a"), t0.Add(1500*time.Millisecond))
	if d, ok := m.Deadline(); !ok || !d.Equal(t0.Add(3500*time.Millisecond)) {
		t.Fatalf("deadline %v %v, want 2s after the last line", d, ok)
	}
	if _, ok := m.Expire(t0.Add(3499 * time.Millisecond)); ok {
		t.Fatal("expired before the deadline")
	}
	g, ok := m.Expire(t0.Add(3500 * time.Millisecond))
	if !ok || string(g.Text) != "2024-05-17 10:05:03 ERROR x\n\tat a" || g.Lines != 2 {
		t.Fatalf("Expire at deadline: %q %v", g.Text, ok)
	}
	// After expiry a late continuation line starts its own event.
	m.Add([]byte("\tat late"), t0.Add(4*time.Second))
	if g, ok := m.Flush(); !ok || string(g.Text) != "\tat late" {
		t.Fatalf("Flush: %q %v", g.Text, ok)
	}
	if _, ok := m.Flush(); ok {
		t.Fatal("second Flush returned an event")
	}
}

func TestMultilineCopiesLines(t *testing.T) {
	m, _ := NewMultiline(javaStart)
	buf := []byte("2024-05-17 10:05:03 first")
	m.Add(buf, testIngest)
	copy(buf, "XXXX")
	g, _ := m.Flush()
	if string(g.Text) != "2024-05-17 10:05:03 first" {
		t.Fatalf("group %q changed with the caller's buffer", g.Text)
	}
}

func TestNewMultilineErrors(t *testing.T) {
	for _, tc := range []struct {
		start   string
		opts    []MultilineOpt
		wantErr string
	}{
		{"", nil, "start pattern is empty"},
		{"(", nil, "missing closing )"},
		{"^x", []MultilineOpt{MultilineMaxLines(0)}, "multiline max-lines 0 is smaller than allowed 1"},
		{"^x", []MultilineOpt{MultilineMaxBytes(-1)}, "multiline max-bytes -1 is smaller than allowed 1"},
		{"^x", []MultilineOpt{MultilineTimeout(0)}, "multiline timeout 0s is smaller than allowed 1ms"},
	} {
		if _, err := NewMultiline(tc.start, tc.opts...); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("NewMultiline(%q): error %v, want it to contain %q", tc.start, err, tc.wantErr)
		}
	}
}

func FuzzMultiline(f *testing.F) {
	f.Add([]byte("S1\na\nb\nS2\nc"), uint8(3), uint16(10))
	f.Add([]byte("a\n\n\nS\n"), uint8(1), uint16(1))
	f.Fuzz(func(t *testing.T, input []byte, maxLines uint8, maxBytes uint16) {
		m, err := NewMultiline(`^S`, MultilineMaxLines(int(maxLines)+1), MultilineMaxBytes(int(maxBytes)+1))
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(input, []byte("\n"))
		var out [][]byte
		total := 0
		for i, l := range lines {
			g, ok := m.Add(l, testIngest.Add(time.Duration(i)*time.Second))
			if ok {
				out = append(out, g.Text)
				total += g.Lines
				if g.Lines > int(maxLines)+1 || len(g.Text) > int(maxBytes)+1 && g.Lines > 1 {
					t.Fatalf("group of %d lines, %d bytes passes the caps", g.Lines, len(g.Text))
				}
			}
			if g, ok := m.Expire(testIngest.Add(time.Duration(i)*time.Second + time.Duration(maxLines)*time.Second)); ok {
				out = append(out, g.Text)
				total += g.Lines
			}
		}
		if g, ok := m.Flush(); ok {
			out = append(out, g.Text)
			total += g.Lines
		}
		// No line lost, none duplicated, order kept.
		if total != len(lines) || !bytes.Equal(bytes.Join(out, []byte("\n")), input) {
			t.Fatalf("groups %q do not rejoin to %q", out, input)
		}
	})
}
