package ship

import (
	"fmt"
	"testing"

	"github.com/loglambda/loglambda/schemas/formats"
)

// accessLine is one generated log line with the key it must get.
type accessLine struct {
	text  string
	user  string // "" when the line has none ("-" or unparsable)
	ip    string
	index int
}

// genAccess generates n combined (or JSON) access log lines from users
// and ips that repeat, with anonymous ("-") users, and junk lines every
// junkEvery lines (0: none).
func genAccess(n int, json bool, junkEvery int) []accessLine {
	out := make([]accessLine, 0, n)
	for i := 0; i < n; i++ {
		if junkEvery > 0 && i%junkEvery == junkEvery-1 {
			out = append(out, accessLine{text: fmt.Sprintf("junk line %d \x00\xff not a log", i), index: i})
			continue
		}
		ip := fmt.Sprintf("10.0.%d.%d", i%7, i%13)
		user := fmt.Sprintf("user%d", i%23)
		if i%5 == 0 {
			user = "-"
		}
		var text string
		if json {
			text = fmt.Sprintf(`{"ts":"2026-11-20T10:%02d:%02dZ","ip":%q,"user":%q,"method":"GET","url":"/search?q=t%d&i=%d","status":200,"bytes":%d}`, i/60%60, i%60, ip, user, i%31, i, 100+i)
		} else {
			text = fmt.Sprintf(`%s - %s [20/Nov/2026:10:%02d:%02d +0000] "GET /search?q=t%d&i=%d HTTP/1.1" 200 %d "-" "Mozilla/5.0 (X11; Linux x86_64)"`, ip, user, i/60%60, i%60, i%31, i, 100+i)
		}
		l := accessLine{text: text, ip: ip, index: i}
		if user != "-" {
			l.user = user
		}
		out = append(out, l)
	}
	return out
}

func TestShipAccessLog(t *testing.T) {
	const n = 3000
	for _, tc := range []struct {
		name, format, key string
		junkEvery         int
	}{
		{"combined keyed by user", "combined", "user", 500},
		{"combined keyed by ip", "combined", "ip", 0},
		{"combined without key", "combined", "", 0},
		{"json keyed by user", "json", "user", 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := formats.New(tc.format)
			if err != nil {
				t.Skipf("format %q not available on this branch yet: %v", tc.format, err)
			}
			k := startKafka(t, 4)
			gen := genAccess(n, tc.format == "json", tc.junkEvery)
			texts := make([]string, len(gen))
			byText := map[string]accessLine{}
			junk := 0
			for i, l := range gen {
				texts[i] = l.text
				byText[l.text] = l
				if l.ip == "" {
					junk++
				}
			}
			path := writeFile(t, t.TempDir(), "access.log", texts)
			sum := shipAll(t, k.Addrs(), []Opt{Format(tc.format), Key(tc.key)}, path)
			if sum.Lines != n || sum.Events != n || sum.Acked != n || sum.AckedLines != n || sum.Failed != 0 || sum.Truncated != 0 {
				t.Fatalf("summary %+v, want %d lines acked", sum, n)
			}
			if tc.key != "" && sum.ParseErrors != int64(junk) {
				t.Fatalf("parse errors %d, want %d junk lines", sum.ParseErrors, junk)
			}
			recs := consumeAll(t, k.Addrs(), testTopic)
			checkExactlyOnce(t, recs, texts)

			keyPartition := map[string]int32{}
			lastIndex := map[int32]int{}
			for _, r := range recs {
				l := byText[string(r.Value)]
				if f, _ := header(r, "format"); f != p.Spec() {
					t.Fatalf("format header %q, want %q", f, p.Spec())
				}
				if src, _ := header(r, "source"); src != path {
					t.Fatalf("source header %q, want %q", src, path)
				}
				want := ""
				switch tc.key {
				case "user":
					want = l.user
				case "ip":
					want = l.ip
				}
				if string(r.Key) != want {
					t.Fatalf("line %d: key %q, want %q", l.index, r.Key, want)
				}
				if want != "" {
					if p, ok := keyPartition[want]; ok && p != r.Partition {
						t.Fatalf("key %q in partitions %d and %d", want, p, r.Partition)
					}
					keyPartition[want] = r.Partition
				}
				// consumeAll returns each partition in offset order: file
				// order must be kept within a partition.
				if last, ok := lastIndex[r.Partition]; ok && l.index <= last {
					t.Fatalf("partition %d: line %d after line %d", r.Partition, l.index, last)
				}
				lastIndex[r.Partition] = l.index
			}
			if tc.key != "" && len(lastIndex) < 2 {
				t.Fatalf("keyed records all in %d partition(s)", len(lastIndex))
			}
		})
	}
}
