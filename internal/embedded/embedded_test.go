package embedded_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
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

// TestMongoSyncModes: documents inserted and then updated (FerretDB's
// update: a transaction per document) are read back by a server started
// again on the same files, whichever way the first committed (LazySync or
// a sync per commit), and each leaves the database in SQLite's WAL mode,
// where synchronous=NORMAL keeps the database consistent at any crash.
func TestMongoSyncModes(t *testing.T) {
	for _, lazy := range []bool{false, true} {
		t.Run(fmt.Sprintf("lazy=%v", lazy), func(t *testing.T) {
			ctx := testkit.Context(t, time.Minute)
			dir := t.TempDir()
			m, err := embedded.StartMongo(embedded.MongoConfig{DataDir: dir, LazySync: lazy})
			if err != nil {
				t.Fatal(err)
			}
			coll := testkit.Client(t, m.URI()).Database("loglambda").Collection("t")
			const n = 50
			var docs []any
			for i := range n {
				docs = append(docs, bson.M{"_id": fmt.Sprint(i), "n": i})
			}
			if _, err := coll.InsertMany(ctx, docs); err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if _, err := coll.ReplaceOne(ctx, bson.M{"_id": fmt.Sprint(i)}, bson.M{"n": 2 * i}); err != nil {
					t.Fatal(err)
				}
			}
			m.Close()

			m, err = embedded.StartMongo(embedded.MongoConfig{DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			got := testkit.All[struct {
				ID string `bson:"_id"`
				N  int    `bson:"n"`
			}](t, testkit.Client(t, m.URI()).Database("loglambda").Collection("t"))
			if len(got) != n {
				t.Fatalf("read %d documents after a restart, want %d", len(got), n)
			}
			for _, d := range got {
				if d.ID != fmt.Sprint(d.N/2) || d.N%2 != 0 {
					t.Errorf("document %s has n=%d, want the update's %s", d.ID, d.N, d.ID+"*2")
				}
			}
			db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "loglambda.sqlite")+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var mode string
			if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal mode %q (%v), want wal", mode, err)
			}
		})
	}
}
