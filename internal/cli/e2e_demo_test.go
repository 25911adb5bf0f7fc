package cli

import (
	"bytes"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
)

// demoStatus is the part of /v1/status TestUpDemoDefaults reads.
type demoStatus struct {
	BatchHorizon *time.Time `json:"batch_horizon"`
	Events       int64      `json:"events"`
	Partitions   []struct {
		Partition int32 `json:"partition"`
		Lag       int64 `json:"lag"`
	} `json:"partitions"`
	Behind []struct {
		Layer        string `json:"layer"`
		PendingDocs  int64  `json:"pending_docs"`
		SkippedPanes int64  `json:"skipped_panes"`
	} `json:"behind"`
}

// TestUpDemoDefaults runs the built binary as a new user does, `up --demo`
// with the demo's defaults (3 h of history at 100 events/s, 1.08 M events,
// 4 partitions, batch 10 s after the backfill), on free ports and a fresh
// data directory, and checks what the user must see: every partition at lag
// 0, a batch horizon, every view answering over the history, PV within 2 %
// of 100 events/s over the backfilled hours (batch) and within 8 % over the
// last live minutes (speed), and no ERROR line in the log. The deadline is
// generous: this is a correctness test; the catch-up time is logged, not
// asserted (ci/bench.sh is where speed is measured).
func TestUpDemoDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end at the demo's volume: builds the binary and runs up --demo")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "loglambda")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/loglambda/loglambda").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	httpAddr := testkit.FreeAddr(t)
	base := "http://" + httpAddr
	var out bytes.Buffer
	cmd := exec.Command(bin, "up", "--demo", "--data", filepath.Join(dir, "data"), "--kafka-listen", testkit.FreeAddr(t),
		"--mongo-listen", testkit.FreeAddr(t), "--http", httpAddr, "--grpc", testkit.FreeAddr(t))
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now().UTC()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("up output:\n%s", out.String())
		}
	})

	// The demo's history starts at its first start minus 3 h.
	histFrom := began.Add(-3 * time.Hour)
	var st demoStatus
	waitFor(t, 5*time.Minute, "lag 0 on every partition, a batch horizon and every view answering", func() error {
		if err := tryGetJSON(base, "/v1/status", &st); err != nil {
			return err
		}
		if st.Events < 3*3600*100 {
			return fmt.Errorf("speed applied %d events, want the 1.08 M of history", st.Events)
		}
		if len(st.Partitions) != 4 {
			return fmt.Errorf("%d partitions checkpointed, want 4", len(st.Partitions))
		}
		for _, p := range st.Partitions {
			if p.Lag > 0 {
				return fmt.Errorf("partition %d lags %d records", p.Partition, p.Lag)
			}
		}
		if st.BatchHorizon == nil {
			return fmt.Errorf("no batch horizon yet")
		}
		q := rangeQuery(histFrom, time.Now().UTC())
		for _, path := range []string{"/v1/traffic?step=1h&" + q, "/v1/hot?k=5&" + q, "/v1/levels?step=1h&" + q} {
			var v map[string]any
			if err := tryGetJSON(base, path, &v); err != nil {
				return err
			}
		}
		return nil
	})
	caughtUp := time.Since(began)
	t.Logf("catch-up: %s from start to lag 0, horizon %s and every view answering; status behind: %+v",
		caughtUp.Round(time.Second), st.BatchHorizon.Format(time.RFC3339), st.Behind)

	// Backfilled hours: the whole hours after the history's start, up to
	// the horizon; batch answers them.
	from := histFrom.Truncate(time.Hour).Add(time.Hour)
	if !st.BatchHorizon.After(from) {
		t.Fatalf("batch horizon %s covers no whole hour of history (from %s)", st.BatchHorizon, from)
	}
	var hist trafficAnswer
	getJSON(t, base, "/v1/traffic?step=1h&"+rangeQuery(from, *st.BatchHorizon), &hist)
	want := 100 * st.BatchHorizon.Sub(from).Seconds()
	if d := math.Abs(float64(hist.Total.PV)-want) / want; d > 0.02 {
		t.Errorf("PV over the backfilled hours %s-%s: %d, want %.0f within 2 %% (off by %.1f %%)",
			from.Format("15:04"), st.BatchHorizon.Format("15:04"), hist.Total.PV, want, 100*d)
	}
	// The last live minutes, answered by speed: two whole minutes after
	// the backfill (which ends within seconds of the start), leaving the
	// current minute (still being generated) out.
	liveTo := time.Now().UTC().Truncate(time.Minute)
	liveFrom := liveTo.Add(-2 * time.Minute)
	for liveFrom.Before(began.Add(30 * time.Second)) {
		time.Sleep(5 * time.Second)
		liveTo = time.Now().UTC().Truncate(time.Minute)
		liveFrom = liveTo.Add(-2 * time.Minute)
	}
	time.Sleep(5 * time.Second) // the last minute's events flushed
	var live trafficAnswer
	getJSON(t, base, "/v1/traffic?step=1m&"+rangeQuery(liveFrom, liveTo), &live)
	want = 100 * liveTo.Sub(liveFrom).Seconds()
	if d := math.Abs(float64(live.Total.PV)-want) / want; d > 0.08 {
		t.Errorf("PV over the live minutes %s-%s: %d, want %.0f within 8 %% (off by %.1f %%)",
			liveFrom.Format("15:04"), liveTo.Format("15:04"), live.Total.PV, want, 100*d)
	}
	if live.BatchHorizon != nil && live.BatchHorizon.After(liveFrom) {
		t.Errorf("live minutes from %s answered by batch (horizon %s)", liveFrom, live.BatchHorizon)
	}
	t.Logf("PV backfilled %s-%s: %d (%.2f/s); live %s-%s: %d (%.2f/s)",
		from.Format("15:04"), st.BatchHorizon.Format("15:04"), hist.Total.PV, float64(hist.Total.PV)/st.BatchHorizon.Sub(from).Seconds(),
		liveFrom.Format("15:04"), liveTo.Format("15:04"), live.Total.PV, float64(live.Total.PV)/liveTo.Sub(liveFrom).Seconds())

	stopped = interrupt(t, cmd)
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("ERROR in the log: %s", line)
		}
	}
}
