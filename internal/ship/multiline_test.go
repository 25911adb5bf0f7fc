package ship

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/formats"
)

const (
	appStart  = `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`
	appLayout = "2006-01-02 15:04:05,000"
	appFormat = `regex:^(?P<ts>\S+ \S+) (?P<level>[A-Z]+) \[(?P<thread>[^\]]+)\] (?P<component>\S+) - (?P<msg>.*)$`
)

// appEvent is one generated application log record: its lines, and the
// level its first line carries (the record key with --key level).
type appEvent struct {
	lines []string
	level string
}

// genAppLog generates n records, every 7th an ERROR with a Java stack trace
// (with a "Caused by" section), and one trace of traceLines lines.
func genAppLog(n, longTrace int) []appEvent {
	var out []appEvent
	for i := 0; i < n; i++ {
		ts := fmt.Sprintf("2026-11-20 10:%02d:%02d,%03d", i/60%60, i%60, i%1000)
		switch {
		case i == n/2 && longTrace > 0:
			ev := appEvent{level: "ERROR", lines: []string{ts + " ERROR [worker-3] com.acme.Batch - runaway recursion"}}
			ev.lines = append(ev.lines, "java.lang.StackOverflowError: null")
			for j := 2; j < longTrace; j++ {
				ev.lines = append(ev.lines, fmt.Sprintf("\tat com.acme.Batch.recurse(Batch.java:%d)", j))
			}
			out = append(out, ev)
		case i%7 == 3:
			out = append(out, appEvent{level: "ERROR", lines: []string{
				ts + fmt.Sprintf(" ERROR [http-nio-8080-exec-%d] com.acme.OrderService - order %d failed", i%10, i),
				"java.lang.IllegalStateException: stock went negative for sku " + fmt.Sprint(i),
				"\tat com.acme.OrderService.reserve(OrderService.java:88)",
				"\tat com.acme.OrderController.post(OrderController.java:41)",
				"Caused by: java.sql.SQLException: deadlock detected",
				"\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2713)",
				"\t... 42 more",
			}})
		default:
			lvl := []string{"INFO", "DEBUG", "WARN"}[i%3]
			out = append(out, appEvent{level: lvl, lines: []string{ts + " " + lvl + " [main] com.acme.App - step " + fmt.Sprint(i)}})
		}
	}
	return out
}

func TestShipMultiline(t *testing.T) {
	for _, tc := range []struct {
		name   string
		follow bool
		long   int // lines of the runaway trace (0: none)
	}{
		{"file with stack traces", false, 0},
		{"trace longer than the 500-line cap", false, 650},
		{"followed, last record sent on timeout", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := startKafka(t, 3)
			evs := genAppLog(400, tc.long)
			var lines, records []string
			level := map[string]string{}
			for _, ev := range evs {
				lines = append(lines, ev.lines...)
				if len(ev.lines) > formats.DefaultMultilineMaxLines {
					// Cut after the cap: the rest is a record of its own.
					head := strings.Join(ev.lines[:formats.DefaultMultilineMaxLines], "\n")
					tail := strings.Join(ev.lines[formats.DefaultMultilineMaxLines:], "\n")
					records = append(records, head, tail)
					level[head] = ev.level
					level[tail] = "" // a continuation does not parse: no key
					continue
				}
				rec := strings.Join(ev.lines, "\n")
				records = append(records, rec)
				level[rec] = ev.level
			}
			dir := t.TempDir()
			path := writeFile(t, dir, "app.log", lines)
			opts := []Opt{Format(appFormat), TimeLayouts(appLayout), Key("level"), MultilineStart(appStart)}
			p, err := formats.NewWithOptions(appFormat, formats.WithTimeLayouts(appLayout))
			if err != nil {
				t.Fatal(err)
			}
			if tc.follow {
				opts = append(opts, Follow(true), PollInterval(10*time.Millisecond), MultilineTimeout(50*time.Millisecond),
					PositionFile(filepath.Join(dir, "pos.json")))
			}
			s, err := New(k.Addrs(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.follow {
				// Stop only once the last record is in: it can only have
				// come out by the timeout, as no line follows it.
				go func() { waitRecords(t, k.Addrs(), len(records)); cancel() }()
			}
			sum, err := s.Run(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Lines != int64(len(lines)) || sum.Events != int64(len(records)) || sum.AckedLines != int64(len(lines)) {
				t.Fatalf("summary %+v: want %d lines in %d records", sum, len(lines), len(records))
			}
			if wantSplit := int64(min(tc.long/formats.DefaultMultilineMaxLines, 1)); sum.Split != wantSplit {
				t.Fatalf("split %d, want %d", sum.Split, wantSplit)
			}
			recs := consumeAll(t, k.Addrs(), testTopic)
			checkExactlyOnce(t, recs, records)
			// The consumer side: the header alone rebuilds the parser,
			// time layout included.
			hdr, _ := header(recs[0], "format")
			cp, err := formats.New(hdr)
			if err != nil {
				t.Fatalf("format header %q does not rebuild a parser: %v", hdr, err)
			}
			if ev := formats.ParseLine(cp, nil, []byte(records[0]), time.Now()); ev.TimeMissing || ev.Time.Minute() != 0 {
				t.Fatalf("event time %v (missing %v) from %q with format %q", ev.Time, ev.TimeMissing, clip(records[0]), hdr)
			}
			for _, r := range recs {
				if string(r.Key) != level[string(r.Value)] {
					t.Fatalf("record %q: key %q, want %q", clip(string(r.Value)), r.Key, level[string(r.Value)])
				}
				if f, _ := header(r, "format"); f != p.Spec() {
					t.Fatalf("format header %q, want %q", f, p.Spec())
				}
			}
		})
	}
}
