package embedded_test

import (
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
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
