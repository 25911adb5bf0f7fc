// Package testkit holds what the tests of several packages share: the
// -short rule, a context bounded by the test, the embedded Kafka and
// MongoDB servers started for one test and stopped with it, a Kafka
// client, a connected MongoDB client, every document of a collection, a
// free loopback address, an HTTP fetch that fails the test on a transport
// error, and the hot view's ordering of terms, computed independently of
// the view. Only tests import it.
package testkit

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/schemas/event"
)

// SkipShort skips tb in -short: the tests that start the whole stack or
// run at volume say so with why.
func SkipShort(tb testing.TB, why string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip(why)
	}
}

// Tool returns the path of a Debian tool a test runs (chromium, kcat),
// skipping tb when it is not installed; ci/test.sh installs them all, so
// CI never skips. use says what the tool is for, in the skip message.
func Tool(tb testing.TB, name, use string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Skipf("%s is not on PATH, needed to %s: apt-get install %s (ci/test.sh does)", name, use, name)
	}
	return p
}

// Context returns a context that ends after d or when tb ends, whichever
// comes first: a test's bound on what it waits for.
func Context(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(tb.Context(), d)
	tb.Cleanup(cancel)
	return ctx
}

// Kafka starts an in-process Kafka-protocol broker with topic of the given
// partitions, closed when tb ends.
func Kafka(tb testing.TB, topic string, partitions int32) *embedded.Kafka {
	tb.Helper()
	// Kept forever: tests produce records stamped at fixed past dates, which
	// the default retention (24 h from a record's timestamp) would delete
	// while the test reads them, depending on the day it runs.
	k, err := embedded.StartKafka(embedded.KafkaConfig{Topic: topic, Partitions: partitions, Retention: -1})
	if err != nil {
		tb.Fatalf("start kafka: %v", err)
	}
	tb.Cleanup(k.Close)
	return k
}

// KafkaClient is a Kafka client of brokers with opts; the caller closes
// it.
func KafkaClient(tb testing.TB, brokers []string, opts ...kgo.Opt) *kgo.Client {
	tb.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		tb.Fatalf("kafka client of %v: %v", brokers, err)
	}
	return cl
}

// Mongo starts the embedded MongoDB-compatible server on a temporary
// directory (cfg.DataDir when set), closed when tb ends. It commits as
// `up`'s store does (LazySync): tests then run the mode users run, and a
// test's process dying loses nothing a test could read back.
func Mongo(tb testing.TB, cfg embedded.MongoConfig) *embedded.Mongo {
	tb.Helper()
	cfg.LazySync = true
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	m, err := embedded.StartMongo(cfg)
	if err != nil {
		tb.Fatalf("start mongo: %v", err)
	}
	tb.Cleanup(m.Close)
	return m
}

// Client connects the driver to uri, disconnected when tb ends.
func Client(tb testing.TB, uri string) *mongo.Client {
	tb.Helper()
	mc, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		tb.Fatalf("connect to mongo: %v", err)
	}
	tb.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	return mc
}

// All returns every document of coll decoded as T.
func All[T any](tb testing.TB, coll *mongo.Collection) []T {
	tb.Helper()
	cur, err := coll.Find(tb.Context(), bson.D{})
	if err != nil {
		tb.Fatalf("find in %s: %v", coll.Name(), err)
	}
	var docs []T
	if err := cur.All(tb.Context(), &docs); err != nil {
		tb.Fatalf("read %s: %v", coll.Name(), err)
	}
	return docs
}

// MongoClient starts the embedded server (Mongo) and connects to it.
func MongoClient(tb testing.TB) *mongo.Client {
	tb.Helper()
	return Client(tb, Mongo(tb, embedded.MongoConfig{}).URI())
}

// FreeAddr returns a loopback address nobody listens on right now.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Do sends req with c (http.DefaultClient when nil) and returns the
// response with its whole body read.
func Do(tb testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	tb.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body of %s %s: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// Request is a new request with the given header pairs (name, value, ...);
// a pair with an empty value is left out.
func Request(tb testing.TB, method, url string, body io.Reader, header ...string) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return req
}

// Get is Do of a GET of url with the default client.
func Get(tb testing.TB, url string) (*http.Response, []byte) {
	tb.Helper()
	return Do(tb, nil, Request(tb, http.MethodGet, url, nil))
}

// Term is a term and its count.
type Term struct {
	Term  string `json:"term"`
	Count int64  `json:"count"`
}

// Top returns the k most counted terms in the hot view's order: count
// descending, then term.
func Top(terms map[string]int64, k int) []Term {
	out := make([]Term, 0, len(terms))
	for t, c := range terms {
		out = append(out, Term{Term: t, Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Term < out[j].Term
	})
	return out[:min(k, len(out))]
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers: a log sink
// shared by the goroutines of the layers under test.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Record is the events as one Arrow record of the lake's schema, as batch
// compaction writes them; the caller releases it.
func Record(evs []event.Event) arrow.RecordBatch {
	b := event.NewRecordBuilder(nil)
	defer b.Release()
	for i := range evs {
		b.Append(&evs[i])
	}
	return b.NewRecordBatch()
}

// BrokerWith starts a broker whose topic has partitions partitions, writes
// counts[p] records to partition p and returns a client of it: the end
// offsets of a status test, set by real records.
func BrokerWith(tb testing.TB, topic string, partitions int32, counts map[int32]int) *kgo.Client {
	tb.Helper()
	k := Kafka(tb, topic, partitions)
	cl := KafkaClient(tb, k.Addrs(), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	tb.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var recs []*kgo.Record
	for p, n := range counts {
		for range n {
			recs = append(recs, &kgo.Record{Partition: p, Value: []byte(`{"msg":"x"}`)})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		tb.Fatalf("produce to %s: %v", topic, err)
	}
	return cl
}
