package embedded

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultRetention is how long the embedded broker keeps a record (by its
// Kafka timestamp, the time it was produced) when KafkaConfig.Retention is
// zero: a day, so that a batch layer that stopped for a night still finds
// what it has not compacted, and the log on disk stays a day of traffic
// however long the broker runs.
const DefaultRetention = 24 * time.Hour

// retentionEvery is how often the broker drops expired records: the
// granularity of Retention, and a check that only walks batch metadata.
const retentionEvery = time.Minute

// Kafka is an in-process Kafka-protocol broker.
type Kafka struct {
	cluster *kfake.Cluster
	stop    chan struct{}
	done    sync.WaitGroup
	once    sync.Once
}

// KafkaConfig configures StartKafka.
type KafkaConfig struct {
	// Listen is the address to listen on; "127.0.0.1:0" picks a free port.
	Listen string
	// DataDir persists the log across restarts when set, and keeps it
	// there: the broker holds only batch metadata in memory, the records
	// are read from the segment files on fetch. Without it the log lives
	// in memory (tests).
	DataDir string
	// Retention is how long records are kept after they were produced
	// (0: DefaultRetention; negative: forever); RetentionBytes, when
	// positive, also bounds each partition's log, oldest records dropped
	// first. Records dropped before the batch layer compacted them are
	// counted there as lost offsets.
	Retention      time.Duration
	RetentionBytes int64
	// Topic is created with Partitions partitions if missing.
	Topic      string
	Partitions int32
}

// StartKafka starts a broker. Close it when done.
func StartKafka(cfg KafkaConfig) (*Kafka, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 4
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	retMs, retBytes := int64(-1), int64(-1)
	if cfg.Retention > 0 {
		retMs = cfg.Retention.Milliseconds()
	}
	if cfg.RetentionBytes > 0 {
		retBytes = cfg.RetentionBytes
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(int(cfg.Partitions)),
		kfake.AllowAutoTopicCreation(),
		// kfake picks the port itself unless told; we want the exact
		// address the user asked for (it is what kcat will be pointed at).
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, cfg.Listen)
		}),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, kfake.LogLevelWarn)),
		// kfake applies these only on its own cleaner tick, which runs
		// for topics with retention set in their own configs; the
		// broker-wide values cover every topic, auto-created ones too,
		// and the loop in StartKafka applies them.
		kfake.BrokerConfigs(map[string]string{
			"log.retention.ms":    strconv.FormatInt(retMs, 10),
			"log.retention.bytes": strconv.FormatInt(retBytes, 10),
			// Retention frees disk a segment at a time.
			"log.segment.bytes": strconv.Itoa(segmentBytes),
		}),
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("kafka data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if cfg.Topic != "" {
		opts = append(opts, kfake.SeedTopics(cfg.Partitions, cfg.Topic))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start kafka on %s: %w", cfg.Listen, err)
	}
	k := &Kafka{cluster: c, stop: make(chan struct{})}
	if retMs >= 0 || retBytes >= 0 {
		k.done.Add(1)
		go k.retain()
	}
	return k, nil
}

// segmentBytes is the size of the broker's segment files: small enough
// that retention frees disk within minutes of a record expiring at the
// demo's rates, large enough to stay a few files per partition and day.
const segmentBytes = 32 << 20

// retain drops expired records every retentionEvery until Close.
func (k *Kafka) retain() {
	defer k.done.Done()
	t := time.NewTicker(retentionEvery)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
			k.cluster.ApplyRetention()
		}
	}
}

// ApplyRetention drops the records past the retention now (tests; the
// broker does it every minute).
func (k *Kafka) ApplyRetention() { k.cluster.ApplyRetention() }

// Addrs are the broker addresses to bootstrap from.
func (k *Kafka) Addrs() []string { return k.cluster.ListenAddrs() }

// Cluster exposes the broker for tests that need its controls.
func (k *Kafka) Cluster() *kfake.Cluster { return k.cluster }

// Close stops the broker, flushing its data dir.
func (k *Kafka) Close() {
	k.once.Do(func() {
		close(k.stop)
		k.done.Wait()
		k.cluster.Close()
	})
}
