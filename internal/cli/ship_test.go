package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestShipHelp checks ship's --help: its flags with their defaults and
// environment variables (its flag errors are in TestCommandFlagErrors).
func TestShipHelp(t *testing.T) {
	var stderr bytes.Buffer
	if err := runShip(context.Background(), []string{"--help"}, nil, &stderr, false); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"--brokers", "LOGLAMBDA_BROKERS", "--position-file", "--follow", "(default 1048576)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Fatalf("--help lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestShipCommand runs the command whole with flags from the environment
// and stdin as input.
func TestShipCommand(t *testing.T) {
	k := testkit.Kafka(t, "shipped", 2)
	t.Setenv("LOGLAMBDA_BROKERS", strings.Join(k.Addrs(), ","))
	t.Setenv("LOGLAMBDA_TOPIC", "shipped")
	dir := t.TempDir()
	file := filepath.Join(dir, "a.log")
	if err := os.WriteFile(file, []byte("{\"user\":\"ann\"}\n{\"user\":\"bob\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	err := runShip(context.Background(), []string{"--key", "user", "--position-file", filepath.Join(dir, "pos.json"), file, "-"},
		strings.NewReader("{\"user\":\"cid\"}\n"), &stderr, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := "shipped 4 lines (54 B) in 4 records"; !strings.Contains(stderr.String(), want) ||
		!strings.Contains(stderr.String(), "acked 4, failed 0") || !strings.Contains(stderr.String(), "key parse errors 1") {
		t.Fatalf("summary %q, want %q, 4 acked and 1 parse error", stderr.String(), want)
	}
	cl := testkit.KafkaClient(t, k.Addrs(), kgo.ConsumeTopics("shipped"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	ctx := testkit.Context(t, 10*time.Second)
	keys := map[string]string{}
	for len(keys) < 4 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { keys[string(r.Value)] = string(r.Key) })
	}
	want := map[string]string{`{"user":"ann"}`: "ann", `{"user":"bob"}`: "bob", "not json": "", `{"user":"cid"}`: "cid"}
	for v, k := range want {
		if got, ok := keys[v]; !ok || got != k {
			t.Fatalf("record %q: key %q (present %v), want %q; all %v", v, got, ok, k, keys)
		}
	}
}
