package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
)

// TestContractRefusal is issue 21's case: batch and speed on one MongoDB
// with other cluster fields. The first to run records the contract; the
// other refuses to start, naming --cluster-fields and both values, until
// started with --new-generation, after which the first's settings are
// the ones refused.
func TestContractRefusal(t *testing.T) {
	k := testkit.Kafka(t, "logs", 2)
	m := testkit.Mongo(t, embedded.MongoConfig{})
	lake := t.TempDir()
	common := []string{"--brokers", strings.Join(k.Addrs(), ","), "--mongo-uri", m.URI(), "--mongo-db", "contract"}
	run := func(ctx context.Context, args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Main(ctx, append(args, common...), &out, &errOut)
		return code, errOut.String()
	}
	if code, msg := run(context.Background(), "batch", "compact", "--lake", lake, "--cluster-fields", "latency_ms"); code != 0 {
		t.Fatalf("batch compact: exit %d: %s", code, msg)
	}
	code, msg := run(context.Background(), "speed", "--cluster-fields", "latency_ms,bytes")
	if code == 0 || !strings.Contains(msg, `--cluster-fields "latency_ms,bytes" (this speed) instead of "latency_ms" (recorded)`) ||
		!strings.Contains(msg, "--new-generation") {
		t.Fatalf("speed with other cluster fields: exit %d: %s", code, msg)
	}
	// The new generation: speed records its settings and runs.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if code, msg := run(ctx, "speed", "--cluster-fields", "latency_ms,bytes", "--new-generation"); code != 0 {
		t.Fatalf("speed --new-generation: exit %d: %s", code, msg)
	}
	code, msg = run(context.Background(), "batch", "compact", "--lake", lake, "--cluster-fields", "latency_ms")
	if code == 0 || !strings.Contains(msg, `--cluster-fields "latency_ms" (this batch) instead of "latency_ms,bytes" (recorded)`) {
		t.Fatalf("batch after speed's new generation: exit %d: %s", code, msg)
	}
	docs := testkit.All[collections.Contract](t, testkit.Client(t, m.URI()).Database("contract").Collection(collections.ContractCollection))
	if len(docs) != 1 || docs[0].Generation != 2 || docs[0].WrittenBy != "speed" || docs[0].ClusterFields != "latency_ms,bytes" {
		t.Fatalf("contract documents %+v", docs)
	}
}
