package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
)

// TestPatternsLive runs the patterns view through the whole stack at
// volume: three hours of the generator's application lines (tens of
// thousands, with new kinds of error appearing) on two partitions. It
// checks that
//   - speed's counts per pattern, per partition and over all panes, equal
//     what `loglambda patterns --summary` finds on the same lines;
//   - every line counts under exactly one pattern (totals add up);
//   - batch, mining the lake, gives every complete pane exactly speed's
//     state (ids, counts, levels, first/last seen, examples);
//   - /v1/patterns answers the same totals from batch and speed.
func TestPatternsLive(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: starts Kafka, MongoDB and all layers")
	const rate = 4.0 // 3 h: 43 200 lines, all with a message
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	end := t0.Add(3 * time.Hour)
	batchNow := end.Add(30 * time.Minute) // every hour complete
	dir := t.TempDir()
	st, ctx, web := startStack(t, upConfig{partitions: 2, batchNow: func() time.Time { return batchNow }})

	// The lines (all have a message), each partition's to a file of its own (in
	// offset order) for the offline miner.
	g, err := gen.New(gen.Seed(11), gen.Rate(rate), gen.Start(t0), gen.Count(int64(3*3600*rate)), gen.OutOfOrder(0.01), gen.Late(0))
	if err != nil {
		t.Fatal(err)
	}
	cl := testkit.KafkaClient(t, st.kafka.Addrs(), kgo.DefaultProduceTopic("logs"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	files := [2]*bytes.Buffer{{}, {}}
	var recs []*kgo.Record
	n := 0
	for !g.Done() {
		r := g.Next()
		var l struct{ Msg string }
		if err := json.Unmarshal(r.Line, &l); err != nil {
			t.Fatal(err)
		}
		if l.Msg == "" {
			continue
		}
		p := int32(n % 2)
		n++
		files[p].Write(r.Line)
		files[p].WriteByte('\n')
		recs = append(recs, &kgo.Record{Partition: p, Value: r.Line})
	}
	// Ten minutes of event time at a time, each applied and checkpointed
	// before the next: a flush then replaces some twenty panes, well under
	// what one FerretDB command can replace (see ARCHITECTURE.md).
	next := map[int32]int64{0: -1, 1: -1}
	// Batch runs once after 50 minutes of event time (hour 0 mined but not
	// complete) and once at the end: its second run mines only the lines
	// compacted since, adding to the states it kept (see batch's
	// patterns). (At 50 minutes its horizon stays at t0, so it deletes no
	// speed document the test reads.)
	midBatch := false
	for len(recs) > 0 {
		k := min(len(recs), int(rate*600))
		if err := cl.ProduceSync(ctx, recs[:k]...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[:k] {
			next[r.Partition] = r.Offset
		}
		recs = recs[k:]
		waitFor(t, 60*time.Second, "speed to checkpoint a chunk", func() error {
			done := 0
			for _, p := range st.speed.Stats().Partitions {
				if p.Checkpointed >= next[p.Partition] {
					done++
				}
			}
			if done < 2 {
				return fmt.Errorf("%d of 2 partitions checkpointed", done)
			}
			return nil
		})
		if produced := int(rate*3*3600) - len(recs); !midBatch && produced >= int(rate*50*60) {
			midBatch = true
			batchNow = t0.Add(50 * time.Minute)
			sum, err := st.batch.Run(ctx)
			if err != nil {
				t.Fatalf("batch run at %s: %v", batchNow, err)
			}
			// At most the hour before t0, of the lines moved earlier.
			if hs := sum.Recompute.Hours; len(hs) > 0 && !hs[len(hs)-1].Before(t0) || sum.Recompute.PatternRows == 0 {
				t.Fatalf("batch run at %s recomputed %v and mined %d lines, want no hour from %s on and lines mined", batchNow, hs, sum.Recompute.PatternRows, t0)
			}
			batchNow = end.Add(30 * time.Minute)
		}
	}
	t.Logf("%d lines", n)

	var status statusAnswer
	waitApplied(t, ctx, st.serving, web.URL, int64(n), 120*time.Second, &status)
	if status.LateDropped != 0 || status.ParseErrors != 0 {
		t.Fatalf("late %d, parse errors %d: want none", status.LateDropped, status.ParseErrors)
	}

	speedDocs := readPatternDocs(t, st.db, collections.SpeedCollection(views.ViewPatterns))
	// Live counts per partition against the offline miner on the same lines.
	for p := int32(0); p < 2; p++ {
		merged := views.NewPatterns()
		for _, d := range speedDocs {
			if d.part == p {
				merged.Merge(d.state)
			}
		}
		got := map[string]int64{}
		for _, e := range merged.Stats() {
			got[e.Template] += e.Count
		}
		path := filepath.Join(dir, fmt.Sprintf("p%d.jsonl", p))
		if err := os.WriteFile(path, files[p].Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		want := patternsSummary(t, ctx, "json", path)
		if !maps.Equal(got, want) {
			t.Errorf("partition %d: live counts per template differ from `loglambda patterns --summary`:\nlive    %v\nsummary %v", p, got, want)
		}
		var gotN, wantN int64
		for _, n := range got {
			gotN += n
		}
		for _, n := range want {
			wantN += n
		}
		if gotN != wantN {
			t.Errorf("partition %d: live patterns count %d lines, `loglambda patterns --summary` %d", p, gotN, wantN)
		}
		if len(want) < 10 {
			t.Errorf("partition %d: only %d patterns; the test lines should hold more", p, len(want))
		}
	}

	sum, err := st.batch.Run(ctx)
	if err != nil {
		t.Fatalf("batch run: %v", err)
	}
	if !midBatch || sum.Recompute.PatternRows <= 0 || sum.Recompute.PatternRows >= int64(n) {
		t.Errorf("second batch run mined %d of %d lines for patterns, want only those compacted since the first", sum.Recompute.PatternRows, n)
	}
	horizon := sum.Recompute.Horizon
	if horizon.Before(t0.Add(2 * time.Hour)) {
		t.Fatalf("horizon %v, want at least two hours recomputed from %v", horizon, t0)
	}
	batchDocs := readPatternDocs(t, st.db, collections.BatchCollection(views.ViewPatterns))
	// Complete panes: every one before the horizon (no late events).
	speedPanes := map[time.Time]*views.Patterns{}
	for _, d := range speedDocs {
		if speedPanes[d.pane] == nil {
			speedPanes[d.pane] = views.NewPatterns()
		}
		speedPanes[d.pane].Merge(d.state)
	}
	compared := 0
	for _, d := range batchDocs {
		sp := speedPanes[d.pane]
		if sp == nil {
			t.Errorf("pane %s: batch has %d events, speed none", d.pane, d.state.Total())
			continue
		}
		a, _ := d.state.MarshalBinary()
		b, _ := sp.MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Errorf("pane %s: batch %v\nspeed %v", d.pane, d.state.Summary(), sp.Summary())
		}
		compared++
	}
	before := 0
	for pane := range speedPanes {
		if pane.Before(horizon) {
			before++
		}
	}
	if compared != before || compared < 110 {
		t.Errorf("compared %d panes of batch with %d of speed before the horizon", compared, before)
	}

	// The API: totals add up over batch, speed and both.
	if err := st.serving.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var ans struct {
		Total    int64
		Patterns []struct {
			Template string
			Count    int64
			New      bool
		}
		Exact bool
	}
	// From an hour before t0: the generator moves a few lines up to a
	// minute earlier (out of order), the first ones before t0.
	getJSON(t, web.URL, "/v1/patterns?k=1000&step=1h&"+rangeQuery(t0.Add(-time.Hour), end.Add(time.Hour)), &ans)
	var s int64
	for _, p := range ans.Patterns {
		s += p.Count
	}
	if ans.Total != int64(n) || s != int64(n) {
		t.Errorf("/v1/patterns total %d, sum of patterns %d, want %d lines", ans.Total, s, n)
	}
}

type patternDoc struct {
	pane  time.Time
	part  int32
	state *views.Patterns
}

func readPatternDocs(t *testing.T, db *mongo.Database, coll string) []patternDoc {
	t.Helper()
	docs := testkit.All[collections.Doc](t, db.Collection(coll))
	out := make([]patternDoc, 0, len(docs))
	for _, d := range docs {
		s := views.NewPatterns()
		if err := s.UnmarshalBinary(d.State); err != nil {
			t.Fatalf("%s: %v", d.ID, err)
		}
		out = append(out, patternDoc{pane: d.Pane.UTC(), part: d.Partition, state: s})
	}
	return out
}

// patternsSummary runs `loglambda patterns --summary --format format path`
// and returns its lines per template.
func patternsSummary(t *testing.T, ctx context.Context, format, path string) map[string]int64 {
	t.Helper()
	var out bytes.Buffer
	if err := runPatterns(ctx, []string{"--summary", "--format", format, path}, &out); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	dec := json.NewDecoder(&out)
	for dec.More() {
		var rec struct {
			Template string
			Count    int64
		}
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		counts[rec.Template] += rec.Count
	}
	return counts
}
