package ship

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
)

// kcatPath returns Debian's kcat, or skips: ci/test.sh installs it.
func kcatPath(t *testing.T) string {
	t.Helper()
	return testkit.Tool(t, "kcat", "run the Kafka interop test")
}

func runKcat(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := testkit.CommandContext(ctx, kcatPath(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// TestKcatProduce: lines produced by kcat -P (what users already do) reach
// franz-go intact, without a format header, so the consumers fall back to
// their --format.
func TestKcatProduce(t *testing.T) {
	kcatPath(t)
	k := startKafka(t, 3)
	lines := numbered("kcat", 0, 500)
	lines = append(lines, `127.0.0.1 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8"`, "plain text with\ttab")
	runKcat(t, []byte(strings.Join(lines, "\n")+"\n"), "-P", "-b", k.Addrs()[0], "-t", testTopic)
	recs := consumeAll(t, k.Addrs(), testTopic)
	checkExactlyOnce(t, recs, lines)
	for _, r := range recs {
		if f, ok := header(r, "format"); ok {
			t.Fatalf("kcat record has a format header %q", f)
		}
	}
}

// TestKcatConsume: what ship produced is readable by kcat -C, headers
// included.
func TestKcatConsume(t *testing.T) {
	kcatPath(t)
	k := startKafka(t, 2)
	lines := numbered("ship-to-kcat", 0, 300)
	path := writeFile(t, t.TempDir(), "app.log", lines)
	shipAll(t, k.Addrs(), []Opt{Key("user")}, path)
	out := runKcat(t, nil, "-C", "-b", k.Addrs()[0], "-t", testTopic, "-o", "beginning", "-e", "-q",
		"-f", "%h\t%k\t%s\n")
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("kcat read %d records, want %d", len(got), len(lines))
	}
	wantHeaders := fmt.Sprintf("format=json,source=%s", path)
	var values []string
	for _, g := range got {
		parts := strings.SplitN(g, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("kcat line %q: want headers, key, value", g)
		}
		if parts[0] != wantHeaders {
			t.Fatalf("kcat headers %q, want %q", parts[0], wantHeaders)
		}
		if !strings.Contains(parts[2], fmt.Sprintf(`"user":%q`, parts[1])) {
			t.Fatalf("kcat key %q does not match value %s", parts[1], parts[2])
		}
		values = append(values, parts[2])
	}
	want := append([]string(nil), lines...)
	sort.Strings(want)
	sort.Strings(values)
	if strings.Join(values, "\n") != strings.Join(want, "\n") {
		t.Fatal("kcat values differ from the shipped lines")
	}
}
