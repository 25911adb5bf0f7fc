package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// patternsInput writes a log whose lines come from three known events with
// varying values, and returns the event of each line: the grouping the
// command must find.
func patternsInput(t *testing.T) (path string, events []int) {
	t.Helper()
	var b strings.Builder
	for i := 0; i < 300; i++ {
		ev := (i * 7) % 3
		switch ev {
		case 0:
			fmt.Fprintf(&b, "2026-11-20 10:%02d:%02d INFO Accepted connection from 10.0.%d.%d:%d\n", i%60, i%60, i%200, i%250, 40000+i)
		case 1:
			fmt.Fprintf(&b, "2026-11-20 10:%02d:%02d WARN Slow query took %d ms on table orders\n", i%60, i%60, 100+i*3)
		case 2:
			fmt.Fprintf(&b, "2026-11-20 10:%02d:%02d ERROR Failed to open /var/data/part-%04d.db: permission denied\n", i%60, i%60, i)
		}
		events = append(events, ev)
	}
	path = filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, events
}

func TestPatternsCommand(t *testing.T) {
	path, events := patternsInput(t)
	header := "header:<Date> <Time> <Level> <Content>"
	templates := map[string]map[int]string{} // format -> event -> template
	for _, format := range []string{"line", header, "auto"} {
		t.Run(format, func(t *testing.T) {
			var out bytes.Buffer
			if err := runPatterns(context.Background(), []string{"--format", format, path}, &out); err != nil {
				t.Fatal(err)
			}
			type rec struct {
				Line     int64  `json:"line"`
				Pattern  string `json:"pattern"`
				Template string `json:"template"`
			}
			var recs []rec
			sc := bufio.NewScanner(&out)
			for sc.Scan() {
				var r rec
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("output line %q: %v", sc.Text(), err)
				}
				recs = append(recs, r)
			}
			if len(recs) != len(events) {
				t.Fatalf("%d output lines, want %d", len(recs), len(events))
			}
			// Same event <=> same pattern, in input order from line 1.
			byEvent := map[int]string{}
			byPattern := map[string]int{}
			for i, r := range recs {
				if r.Line != int64(i+1) {
					t.Fatalf("record %d has line %d", i, r.Line)
				}
				if !strings.Contains(r.Template, "<*>") {
					t.Errorf("line %d: template %q has no variable", r.Line, r.Template)
				}
				ev := events[i]
				if p, ok := byEvent[ev]; ok && p != r.Pattern {
					t.Fatalf("line %d: event %d split over patterns %s and %s", r.Line, ev, p, r.Pattern)
				}
				if e, ok := byPattern[r.Pattern]; ok && e != ev {
					t.Fatalf("line %d: pattern %s merges events %d and %d", r.Line, r.Pattern, e, ev)
				}
				byEvent[ev], byPattern[r.Pattern] = r.Pattern, ev
				if templates[format] == nil {
					templates[format] = map[int]string{}
				}
				templates[format][ev] = r.Template
			}
		})
	}
	// With no format given, the header is found: the same templates as
	// with the header format.
	for ev, want := range templates[header] {
		if got := templates["auto"][ev]; got != want {
			t.Errorf("event %d: auto template %q, with the header format %q", ev, got, want)
		}
	}

	var out bytes.Buffer
	if err := runPatterns(context.Background(), []string{"--summary", "--format", header, path}, &out); err != nil {
		t.Fatal(err)
	}
	var total uint64
	last := ^uint64(0)
	sc := bufio.NewScanner(&out)
	n := 0
	for sc.Scan() {
		var p struct {
			Count   uint64 `json:"count"`
			Example string `json:"example"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.Count > last || p.Example == "" {
			t.Fatalf("summary not by count, or without example: %s", sc.Text())
		}
		last, total, n = p.Count, total+p.Count, n+1
	}
	if n != 3 || total != uint64(len(events)) {
		t.Fatalf("summary: %d patterns counting %d lines, want 3 counting %d", n, total, len(events))
	}
}
