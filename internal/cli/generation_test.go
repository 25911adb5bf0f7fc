package cli

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving"
)

// TestNewGeneration changes the clusters view's fields (issue 21's
// case: latency_ms, then latency_ms,bytes) with --new-generation over a
// lake of a few complete hours and a current hour: batch recomputes every
// hour of the lake under the new contract (its documents and horizon of
// generation 2), and serving answers one generation at a time: right
// after batch's run, before speed has run under the new contract, the
// clusters over the whole range have the two fields and count the events
// before the horizon alone (speed's documents of generation 1 are left
// out), and once speed has run again from the start of each partition,
// every event. Counts are computed here from the lines.
func TestNewGeneration(t *testing.T) {
	testkit.SkipShort(t, "batch and speed runs over a few hours of events")
	const topic = "logs"
	k := testkit.Kafka(t, topic, 2)
	m := testkit.Mongo(t, embedded.MongoConfig{})
	ctx := testkit.Context(t, 5*time.Minute)
	now := time.Now().UTC()
	start := now.Truncate(time.Hour).Add(-3 * time.Hour)
	cl := testkit.KafkaClient(t, k.Addrs(), kgo.DefaultProduceTopic(topic))
	defer cl.Close()
	type line struct {
		ts         time.Time
		user, host string
	}
	var lines []line
	var recs []*kgo.Record
	for i, ts := 0, start; ts.Before(now.Add(-2 * time.Minute)); i, ts = i+1, ts.Add(3*time.Second) {
		l := line{ts: ts, user: fmt.Sprintf("u%d", i%7*(i%3+1)), host: fmt.Sprintf("h%d", i%5+i%2)}
		lines = append(lines, l)
		recs = append(recs, &kgo.Record{Key: []byte(l.host), Value: []byte(fmt.Sprintf(`{"ts":%q,"user":%q,"host":%q,"latency_ms":%d,"bytes":%d,"msg":"x"}`,
			ts.Format(time.RFC3339Nano), l.user, l.host, 5+i%97, 100+i%1013))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	count := func(before time.Time, by func(line) string) map[string]int64 {
		out := map[string]int64{}
		for _, l := range lines {
			if l.ts.Before(before) {
				out[by(l)]++
			}
		}
		return out
	}
	lake := t.TempDir()
	common := []string{"--brokers", strings.Join(k.Addrs(), ","), "--mongo-uri", m.URI(), "--mongo-db", "gen", "--format", "json"}
	run := func(ctx context.Context, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := Main(ctx, append(args, common...), &out, &errOut); code != 0 && ctx.Err() == nil {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
	}
	db := testkit.Client(t, m.URI()).Database("gen")
	// speedUntilCaughtUp runs speed until every partition's checkpoint of
	// the generation is at the end of the topic.
	speedUntilCaughtUp := func(gen int64, args ...string) {
		t.Helper()
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			run(sctx, append([]string{"speed", "--instance-id", "", "--flush-interval", "200ms"}, args...)...)
		}()
		waitFor(t, 2*time.Minute, "speed caught up", func() error {
			cks := testkit.All[collections.Checkpoint](t, db.Collection(collections.CheckpointCollection))
			var n int64
			for _, c := range cks {
				if collections.CurrentGeneration(c.Generation) == gen {
					n += c.Offset + 1
				}
			}
			if n != int64(len(lines)) {
				return fmt.Errorf("generation %d: %d of %d records applied", gen, n, len(lines))
			}
			return nil
		})
		cancel()
		<-done
	}
	// refreshed is a server over db, refreshed once.
	refreshed := func() *serving.Server {
		t.Helper()
		srv, err := serving.New(db, serving.Topic(topic))
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		return srv
	}
	// clusters is the clusters answer's fields and events (features or not).
	clusters := func() string {
		t.Helper()
		srv := refreshed()
		a, err := srv.Clusters(serving.ClustersQuery{Range: serving.Range{From: start, To: now.Add(time.Minute)}, Step: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%v %d", a.Fields, a.Events+a.Missing)
	}
	before := func(t time.Time) int {
		n := 0
		for _, l := range lines {
			if l.ts.Before(t) {
				n++
			}
		}
		return n
	}
	hot := func() map[string]int64 {
		t.Helper()
		srv := refreshed()
		a, err := srv.Hot(serving.HotQuery{Range: serving.Range{From: start, To: now.Add(time.Minute)}, K: 1000})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, tc := range a.Terms {
			out[tc.Term] = tc.Count
		}
		return out
	}
	horizon := func() collections.HorizonDoc {
		var d collections.HorizonDoc
		if err := db.Collection(collections.MetaCollection).FindOne(ctx, bson.M{"_id": collections.HorizonDocID(topic)}).Decode(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	user := func(l line) string { return l.user }
	one, two := []string{"--hot-term", "field:user", "--cluster-fields", "latency_ms"}, []string{"--hot-term", "field:user", "--cluster-fields", "latency_ms,bytes"}

	// Generation 1.
	run(ctx, append([]string{"batch", "run", "--lake", lake}, one...)...)
	speedUntilCaughtUp(1, one...)
	h1 := horizon()
	if h1.Horizon.Before(start.Add(2*time.Hour)) || collections.CurrentGeneration(h1.Generation) != 1 {
		t.Fatalf("generation 1: horizon %s (generation %d), want 2 hours or more past %s", h1.Horizon, h1.Generation, start)
	}
	if got, want := hot(), count(now, user); !maps.Equal(got, want) {
		t.Fatalf("generation 1: hot %v, want the users %v", got, want)
	}
	if got, want := clusters(), fmt.Sprintf("[latency_ms] %d", len(lines)); got != want {
		t.Fatalf("generation 1: clusters %s, want %s", got, want)
	}

	// Generation 2: batch first. Every hour recomputed, every batch
	// document of generation 2; serving answers batch's hours alone.
	run(ctx, append([]string{"batch", "run", "--lake", lake, "--new-generation"}, two...)...)
	h2 := horizon()
	if !h2.Horizon.Equal(h1.Horizon) || h2.Generation != 2 || !slices.Equal(h2.Hours, h1.Hours) || !h2.Recomputed[0].After(h1.Recomputed[len(h1.Recomputed)-1]) {
		t.Fatalf("generation 2: horizon %+v after %+v: want the same hours, recomputed again", h2, h1)
	}
	for _, view := range views.Names {
		docs := testkit.All[collections.Doc](t, db.Collection(collections.BatchCollection(view)))
		for _, d := range docs {
			if d.Generation != 2 {
				t.Fatalf("batch document %s of generation %d after the new generation's run", d.ID, d.Generation)
			}
		}
		if len(docs) == 0 {
			t.Fatalf("no %s batch documents", view)
		}
	}
	if got, want := clusters(), fmt.Sprintf("[latency_ms bytes] %d", before(h2.Horizon)); got != want {
		t.Fatalf("generation 2 before speed ran: clusters %s, want %s: batch's hours alone, no speed document of generation 1", got, want)
	}
	if got, want := hot(), count(h2.Horizon, user); !maps.Equal(got, want) {
		t.Fatalf("generation 2 before speed ran: hot %v, want %v (batch's hours alone)", got, want)
	}

	// Then speed, without --new-generation (the contract is generation 2
	// already): it starts every partition over.
	speedUntilCaughtUp(2, two...)
	if got, want := clusters(), fmt.Sprintf("[latency_ms bytes] %d", len(lines)); got != want {
		t.Fatalf("generation 2: clusters %s, want %s", got, want)
	}
	if got, want := hot(), count(now, user); !maps.Equal(got, want) {
		t.Fatalf("generation 2: hot %v, want %v", got, want)
	}
	// A speed or batch with generation 1's settings now refuses.
	var out, errOut bytes.Buffer
	if code := Main(ctx, append(append([]string{"batch", "recompute", "--lake", lake}, one...), common...), &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "--cluster-fields") {
		t.Fatalf("batch with generation 1's hot term: exit %d: %s", code, errOut.String())
	}
}
