package embedded_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestStack starts both servers, produces and consumes a record, writes
// and reads a document: the smoke test every layer's tests rely on.
func TestStack(t *testing.T) {
	ctx := testkit.Context(t, time.Minute)
	k, err := embedded.StartKafka(embedded.KafkaConfig{DataDir: t.TempDir(), Topic: "logs", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	cl := testkit.KafkaClient(t, k.Addrs(), kgo.ConsumeTopics("logs"), kgo.DefaultProduceTopic("logs"))
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fs := cl.PollFetches(ctx)
	if errs := fs.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := fs.NumRecords(); got != 1 {
		t.Fatalf("consumed %d records, want 1", got)
	}

	mc := testkit.MongoClient(t)
	coll := mc.Database("loglambda").Collection("t")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "a", "n": 42}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		N int `bson:"n"`
	}
	if err := coll.FindOne(ctx, bson.M{"_id": "a"}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.N != 42 {
		t.Fatalf("read n=%d, want 42", doc.N)
	}
}

// TestKafkaRetention produces records stamped three hours ago and now to
// a broker keeping one hour: once retention runs, the log starts at the
// first recent record and fetching from the start reads exactly the
// recent ones, from the segment files of the data dir.
func TestKafkaRetention(t *testing.T) {
	ctx := testkit.Context(t, time.Minute)
	k, err := embedded.StartKafka(embedded.KafkaConfig{DataDir: t.TempDir(), Topic: "logs", Partitions: 1, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	cl := testkit.KafkaClient(t, k.Addrs(), kgo.DefaultProduceTopic("logs"))
	defer cl.Close()
	old, recent := 50, 30
	now := time.Now()
	for i := range old + recent {
		ts := now
		if i < old {
			ts = now.Add(-3 * time.Hour)
		}
		// One record per produce: one batch each, so retention can drop
		// exactly the old ones.
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i)), Timestamp: ts}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	k.ApplyRetention()
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, "logs")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := starts.Lookup("logs", 0)
	if st.Offset != int64(old) {
		t.Fatalf("log starts at offset %d after retention, want %d (the first recent record)", st.Offset, old)
	}
	cons := testkit.KafkaClient(t, k.Addrs(), kgo.ConsumeTopics("logs"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cons.Close()
	var got []string
	for len(got) < recent {
		fs := cons.PollFetches(ctx)
		if errs := fs.Errors(); len(errs) > 0 {
			t.Fatal(errs)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if got[0] != fmt.Sprint(old) || len(got) != recent {
		t.Fatalf("consumed %d records from %s, want %d from %d", len(got), got[0], recent, old)
	}
}
