package cli

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
)

// fuzzKinds are the kinds of line TestFuzzVolume writes. The bad ones
// (truncated JSON, binary junk, lines of another format, lines cut to the
// line cap) can never parse as JSON; the doubtful ones (bad times,
// control characters, an object without fields) may parse or not; the
// good ones must parse.
const (
	fuzzGood = iota
	fuzzTruncated
	fuzzBinary
	fuzzOtherFormat
	fuzzBadTime
	fuzzControl
	fuzzEmptyObject
	fuzzHuge
	fuzzKindsN
)

// fuzzMaxLine is ship's --max-line in the test: huge lines are cut to it.
const fuzzMaxLine = 64 << 10

// writeFuzzLines writes n lines of every kind to path and returns how
// many of each, and the bytes the lake's raw column must hold in all
// (each line cut to fuzzMaxLine).
func writeFuzzLines(t *testing.T, path string, n int, seed uint64) (kinds [fuzzKindsN]int, rawBytes int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 7))
	base := time.Now().UTC().Add(-3 * time.Hour)
	var line []byte
	for i := range n {
		ts := base.Add(time.Duration(i) * time.Millisecond)
		good := fmt.Sprintf(`{"ts":%q,"level":"INFO","user":"u%d","path":"/p/%d","latency_ms":%d,"msg":"request %d done"}`,
			ts.Format(time.RFC3339Nano), i%97, i%13, i%500, i)
		k := fuzzGood
		switch r := rng.IntN(1000); {
		case i%100_000 == 99_999:
			k = fuzzHuge
		case r < 150:
			k = fuzzGood
		case r < 350:
			k = fuzzTruncated
		case r < 500:
			k = fuzzBinary
		case r < 650:
			k = fuzzOtherFormat
		case r < 800:
			k = fuzzBadTime
		case r < 950:
			k = fuzzControl
		default:
			k = fuzzEmptyObject
		}
		line = line[:0]
		switch k {
		case fuzzGood:
			line = append(line, good...)
		case fuzzTruncated: // cut before the closing brace
			line = append(line, good[:1+rng.IntN(len(good)-1)]...)
		case fuzzBinary: // starts with a NUL, no newline
			line = append(line, 0)
			for range rng.IntN(300) {
				b := byte(rng.IntN(256))
				if b == '\n' {
					b = 0xff
				}
				line = append(line, b)
			}
		case fuzzOtherFormat:
			line = fmt.Appendf(line, `10.0.%d.%d - - [%s] "GET /x?q=%d HTTP/1.1" 200 %d "-" "fuzz"`,
				i%256, i%199, ts.Format("02/Jan/2006:15:04:05 -0700"), i, i%9999)
		case fuzzBadTime:
			bad := []string{"2026-13-45T99:99:99Z", "yesterday", "", "0000-00-00", "9999999999999999999", "2026-12-07T10:00:00+99:00"}
			line = fmt.Appendf(line, `{"ts":%q,"level":"WARN","msg":"bad time %d"}`, bad[i%len(bad)], i)
		case fuzzControl:
			line = fmt.Appendf(line, `{"ts":%q,"msg":"ctl \x01\x02\t\r\xc3\x28 %d"}`, ts.Format(time.RFC3339Nano), i)
		case fuzzEmptyObject:
			line = append(line, "{}"...)
		case fuzzHuge: // a JSON string of 1 MiB: cut, it cannot parse
			line = append(line, `{"msg":"`...)
			line = append(line, strings.Repeat("x", 1<<20)...)
			line = append(line, `"}`...)
		}
		kinds[k]++
		rawBytes += int64(min(len(line), fuzzMaxLine))
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return kinds, rawBytes
}

// TestFuzzVolume is ci/fuzz.sh's run, not part of the test run (it needs
// LOGLAMBDA_FUZZ_LINES): that many generated bad lines (truncated JSON,
// binary junk, lines of another format, bad times, control characters,
// empty objects, 1 MiB lines cut to the line cap, and some good lines)
// go through `ship --format json` -> Kafka -> `speed` and `batch run`,
// all processes (the built binary) against a `loglambda stores` process.
// No process may panic; Kafka must hold one record per line; speed must
// count every record (events) and batch keep every one in the lake (rows
// = distinct offsets = lines, raw bytes = the lines' bytes after the
// cut), speed's parse errors must equal the lake's, and lie between the
// lines that cannot parse and the lines that are not good.
func TestFuzzVolume(t *testing.T) {
	if os.Getenv("LOGLAMBDA_FUZZ_LINES") == "" {
		t.Skip("ci/fuzz.sh's run: set LOGLAMBDA_FUZZ_LINES")
	}
	n := envInt(t, "LOGLAMBDA_FUZZ_LINES", 0)
	bin := buildBinary(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "fuzz.log")
	start := time.Now()
	kinds, rawBytes := writeFuzzLines(t, input, n, 21)
	t.Logf("%d lines written in %s: good %d, truncated %d, binary %d, other format %d, bad time %d, control %d, empty object %d, huge %d",
		n, time.Since(start).Round(time.Millisecond), kinds[fuzzGood], kinds[fuzzTruncated], kinds[fuzzBinary], kinds[fuzzOtherFormat],
		kinds[fuzzBadTime], kinds[fuzzControl], kinds[fuzzEmptyObject], kinds[fuzzHuge])
	ctx := testkit.Context(t, 3*time.Hour)
	_, kafkaAddr, mongoAddr := startStores(t, bin, filepath.Join(dir, "data"), 4)
	uri := "mongodb://" + mongoAddr + "/"
	lake := filepath.Join(dir, "lake")

	speedP := newProc(t, "speed", bin, "speed", "--brokers", kafkaAddr, "--mongo-uri", uri, "--mongo-db", "fuzz", "--format", "json",
		"--group", "fuzz", "--instance-id", "")
	speedP.start()
	start = time.Now()
	ship := newProc(t, "ship", bin, "ship", "--brokers", kafkaAddr, "--format", "json", "--max-line", strconv.Itoa(fuzzMaxLine), input)
	runExit0(t, ship)
	shipTook := time.Since(start)
	acked := regexp.MustCompile(`acked (\d+), failed (\d+); truncated lines (\d+)`).FindStringSubmatch(ship.output())
	if acked == nil || acked[1] != strconv.Itoa(n) || acked[2] != "0" || acked[3] != strconv.Itoa(kinds[fuzzHuge]) {
		t.Fatalf("ship: %s; want %d acked, 0 failed, %d truncated", ship.output(), n, kinds[fuzzHuge])
	}
	adm := kadm.NewClient(testkit.KafkaClient(t, []string{kafkaAddr}))
	ends, err := adm.ListEndOffsets(ctx, "logs")
	if err != nil {
		t.Fatal(err)
	}
	var records int64
	ends.Each(func(o kadm.ListedOffset) { records += o.Offset })
	if records != int64(n) {
		t.Fatalf("the topic holds %d records, want one per line: %d", records, n)
	}
	client := testkit.Client(t, uri)
	db := client.Database("fuzz")
	waitFor(t, 2*time.Hour, "speed to apply every record", func() error { return caughtUp(ctx, adm, db, "logs") })
	speedTook := time.Since(start)
	start = time.Now()
	batch := newProc(t, "batch", bin, "batch", "run", "--brokers", kafkaAddr, "--mongo-uri", uri, "--mongo-db", "fuzz", "--format", "json", "--lake", lake)
	runExit0(t, batch)
	batchTook := time.Since(start)
	speedP.stopInterrupt()
	for _, p := range []*proc{ship, speedP, batch} {
		if out := p.output(); strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
			t.Errorf("%s panicked:\n%s", p.name, out)
		}
	}

	cks := testkit.All[collections.Checkpoint](t, db.Collection(collections.CheckpointCollection))
	var events, speedErrors int64
	for _, c := range cks {
		events += c.Events
		speedErrors += c.ParseErrors
	}
	outb, err := testkit.Command(bin, "sql", "--lake", lake, "--format", "csv",
		`SELECT count(*), count(DISTINCT (partition, "offset")), sum(CASE WHEN parse_error <> '' THEN 1 ELSE 0 END), sum(octet_length(raw)) FROM logs`).Output()
	if err != nil {
		t.Fatalf("sql over the lake: %v\n%s", err, outb)
	}
	lakeLine := strings.Split(strings.TrimSpace(string(outb)), "\n")
	want := fmt.Sprintf("%d,%d,%d,%d", n, n, speedErrors, rawBytes)
	if got := lakeLine[len(lakeLine)-1]; got != want {
		t.Errorf("lake rows, distinct offsets, parse errors, raw bytes: %s, want %s (speed's parse errors %d)", got, want, speedErrors)
	}
	if events != int64(n) {
		t.Errorf("speed counted %d records, want %d", events, n)
	}
	cannot := int64(kinds[fuzzTruncated] + kinds[fuzzBinary] + kinds[fuzzOtherFormat] + kinds[fuzzHuge])
	if speedErrors < cannot || speedErrors > int64(n-kinds[fuzzGood]) {
		t.Errorf("parse errors %d, want between the %d lines that cannot parse and the %d that are not good", speedErrors, cannot, n-kinds[fuzzGood])
	}
	t.Logf("%d lines (%d MiB raw in the lake): ship %s, speed caught up %s after ship's start, batch run %s; parse errors %d (speed = lake), cannot parse %d, not good %d",
		n, rawBytes>>20, shipTook.Round(time.Second), speedTook.Round(time.Second), batchTook.Round(time.Second), speedErrors, cannot, n-kinds[fuzzGood])
}

// runExit0 starts p and waits for it to exit, failing t unless it exits 0.
func runExit0(t *testing.T, p *proc) {
	t.Helper()
	p.start()
	for !p.exited() {
		time.Sleep(200 * time.Millisecond)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("%s exited %d: %s", p.name, code, p.output())
	}
}
