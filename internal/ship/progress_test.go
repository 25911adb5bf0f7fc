package ship

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
)

func TestShipProgressLine(t *testing.T) {
	var c counters
	c.lines.Store(1500)
	c.bytes.Store(3 << 20)
	c.ackedLines.Store(1200)
	var out bytes.Buffer
	ctx := testkit.Context(t, 600*time.Millisecond)
	runProgress(ctx, &out, &c, time.Now())
	s := out.String()
	if n := strings.Count(s, "\r"); n < 1 || n > 3 {
		t.Fatalf("%d updates in 600ms, want 1 to 3 (at most 4 a second): %q", n, s)
	}
	if !strings.Contains(s, "1500 lines, 3.0 MiB read, 1200 acked") || !strings.HasSuffix(s, "\n") {
		t.Fatalf("progress %q", s)
	}
}
