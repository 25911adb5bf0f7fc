package cli

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// TestPatternsAccessLog feeds the same access-log lines (20 000 requests
// of a combined log, an hour of them) to the live stack (--format
// combined) and to `loglambda patterns --summary`, with the format given
// and with auto, and checks that all three find the same patterns with the
// same counts: one message rule (views.PatternMessage, "METHOD path
// status") for the live view and the offline command. The counts per
// method are also checked against the test's own reading of
// the lines (combinedRE).
func TestPatternsAccessLog(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: starts Kafka, MongoDB and all layers")
	from := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	to := from.Add(time.Hour)
	dir := t.TempDir()
	lg, _, _ := writeIngestLogs(t, dir, 23, 20000, 0, from, to)
	var lines []string
	byMethod := map[string]int64{}
	for _, l := range lg.access {
		m := combinedRE.FindStringSubmatch(l)
		if m == nil {
			continue // malformed: speed counts it as a parse error
		}
		lines = append(lines, l)
		byMethod[m[4]]++
	}
	path := filepath.Join(dir, "access-ok.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	st, ctx, web := startStack(t, upConfig{partitions: 1, viewFlags: viewFlags{format: "combined"}})
	cl := testkit.KafkaClient(t, st.kafka.Addrs(), kgo.DefaultProduceTopic("logs"))
	defer cl.Close()
	recs := make([]*kgo.Record, len(lines))
	for i, l := range lines {
		recs[i] = &kgo.Record{Value: []byte(l)}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var status statusAnswer
	waitApplied(t, ctx, st.serving, web.URL, int64(len(lines)), 120*time.Second, &status)
	if status.ParseErrors != 0 {
		t.Fatalf("%d parse errors, want none", status.ParseErrors)
	}

	// Live: speed's panes merged, and the API over the whole range.
	merged := views.NewPatterns()
	for _, d := range readPatternDocs(t, st.db, collections.SpeedCollection(views.ViewPatterns)) {
		merged.Merge(d.state)
	}
	live := map[string]int64{}
	for _, e := range merged.Stats() {
		live[e.Template] += e.Count
	}
	if err := st.serving.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var ans struct {
		Total    int64
		Patterns []struct {
			Template string
			Count    int64
		}
	}
	getJSON(t, web.URL, "/v1/patterns?k=1000&"+rangeQuery(from.Add(-time.Hour), to.Add(time.Hour)), &ans)
	api := map[string]int64{}
	for _, p := range ans.Patterns {
		api[p.Template] += p.Count
	}
	if ans.Total != int64(len(lines)) {
		t.Errorf("/v1/patterns total %d, want %d lines", ans.Total, len(lines))
	}
	if !maps.Equal(api, live) {
		t.Errorf("/v1/patterns %v\nspeed's panes %v", api, live)
	}

	for _, format := range []string{"combined", "auto"} {
		offline := patternsSummary(t, ctx, format, path)
		if !maps.Equal(offline, api) {
			t.Errorf("--format %s: `loglambda patterns --summary` %v\n/v1/patterns %v", format, offline, api)
		}
		// Every template is "METHOD path status" (the path and status,
		// variables next to each other, are one <*>): its method is the
		// lines', counted by the test's own reading.
		got := map[string]int64{}
		for tmpl, n := range offline {
			f := strings.Fields(tmpl)
			if len(f) < 2 || f[len(f)-1] != "<*>" {
				t.Errorf("--format %s: template %q is not METHOD path status", format, tmpl)
				continue
			}
			got[f[0]] += n
		}
		if !maps.Equal(got, byMethod) {
			t.Errorf("--format %s: lines per method %v, want %v", format, got, byMethod)
		}
		t.Logf("--format %s: %d patterns", format, len(offline))
	}
}
