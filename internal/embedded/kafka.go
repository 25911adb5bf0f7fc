package embedded

import (
	"fmt"
	"net"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Kafka is an in-process Kafka-protocol broker.
type Kafka struct {
	cluster *kfake.Cluster
}

// KafkaConfig configures StartKafka.
type KafkaConfig struct {
	// Listen is the address to listen on; "127.0.0.1:0" picks a free port.
	Listen string
	// DataDir persists the log across restarts when set.
	DataDir string
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
	return &Kafka{cluster: c}, nil
}

// Addrs are the broker addresses to bootstrap from.
func (k *Kafka) Addrs() []string { return k.cluster.ListenAddrs() }

// Cluster exposes the broker for tests that need its controls.
func (k *Kafka) Cluster() *kfake.Cluster { return k.cluster }

// Close stops the broker, flushing its data dir.
func (k *Kafka) Close() { k.cluster.Close() }
