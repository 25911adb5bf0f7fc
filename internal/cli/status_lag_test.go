package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/serving"
)

// TestStatusLagFromBroker checks /v1/status's lag against a real broker
// (what up wires): partition 0's checkpoint says offset 9 and a stored high
// watermark of 10 (caught up, by the old rule) but the broker holds 25
// records, and nobody wrote the checkpoint for two minutes; partition 1
// has 7 records and no checkpoint at all; partition 2 is empty. Lag must
// be 15 and 7, both listed as stalled under "behind", and partition 2 not.
func TestStatusLagFromBroker(t *testing.T) {
	const topic = "lag"
	k := testkit.Kafka(t, topic, 3)
	m := testkit.Mongo(t, embedded.MongoConfig{DataDir: t.TempDir()})
	db := testkit.Client(t, m.URI()).Database("lag")
	ctx := testkit.Context(t, time.Minute)
	cl := testkit.KafkaClient(t, k.Addrs(), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for p, n := range map[int32]int{0: 25, 1: 7} {
		for range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Partition: p, Value: []byte(`{"msg":"x"}`)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := time.Now().UTC()
	ck := collections.Checkpoint{ID: collections.CheckpointID(topic, 0), Topic: topic, Partition: 0, Offset: 9, HighWatermark: 10,
		Events: 10, Updated: now.Add(-2 * time.Minute)}
	if _, err := db.Collection(collections.CheckpointCollection).InsertOne(ctx, ck); err != nil {
		t.Fatal(err)
	}
	srv, err := serving.New(db, serving.Topic(topic), serving.BrokerEndOffsets(cl, topic))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	st := srv.Status()
	want := map[int32]serving.PartitionStatus{0: {Partition: 0, Offset: 9, HighWatermark: 25, Lag: 15}, 1: {Partition: 1, Offset: -1, HighWatermark: 7, Lag: 7}}
	if len(st.Partitions) != len(want) {
		t.Fatalf("partitions %+v, want 0 and 1", st.Partitions)
	}
	for _, p := range st.Partitions {
		w := want[p.Partition]
		if p.Offset != w.Offset || p.HighWatermark != w.HighWatermark || p.Lag != w.Lag {
			t.Errorf("partition %d: offset %d, end %d, lag %d; want %d, %d, %d", p.Partition, p.Offset, p.HighWatermark, p.Lag, w.Offset, w.HighWatermark, w.Lag)
		}
	}
	var behind []string
	for _, b := range st.Behind {
		behind = append(behind, b.LastError)
	}
	all := strings.Join(behind, "\n")
	for _, s := range []string{"partition 0: 15 records wait and no speed member has written it for 2m", "partition 1: 7 records and no speed member has ever written it"} {
		if !strings.Contains(all, s) {
			t.Errorf("behind %q lacks %q", all, s)
		}
	}
	if strings.Contains(all, "partition 2") {
		t.Errorf("the empty partition 2 is reported: %q", all)
	}
	// A broker that does not answer (nothing listens on its address):
	// said so, and the lag is unknown (-1), not the checkpoints' 0.
	gone := testkit.KafkaClient(t, []string{testkit.FreeAddr(t)})
	down, err := serving.New(db, serving.Topic(topic), serving.BrokerEndOffsets(gone, topic))
	if err != nil {
		t.Fatal(err)
	}
	if err := down.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	st = down.Status()
	if len(st.Partitions) != 1 || st.Partitions[0].Lag != -1 || !strings.Contains(st.LagUnknown, "broker end offsets") ||
		len(st.Behind) != 1 || !strings.Contains(st.Behind[0].LastError, "broker end offsets") {
		t.Errorf("broker down: partitions %+v, behind %+v", st.Partitions, st.Behind)
	}
}
