package ship

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// NewProducer returns the Kafka producer of loglambda's producers, ship
// and gen: idempotent with acks=all, so a retried batch is written once
// and records stay in order within a partition; producing to the topic of
// opts, with its linger, buffer bounds and line cap. The options that are
// not the producer's (format, follow, ...) are ignored. The caller closes
// the client.
func NewProducer(brokers []string, opts ...Opt) (*kgo.Client, error) {
	c := defaults()
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return newProducer(brokers, c)
}

func newProducer(brokers []string, c cfg) (*kgo.Client, error) {
	if len(brokers) == 0 {
		return nil, errors.New("no brokers")
	}
	kopts := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.DefaultProduceTopic(c.topic),
		// Idempotent (kgo's default, with acks=all): a retried batch is
		// written once, and records stay in order within a partition.
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(c.linger),
		kgo.MaxBufferedRecords(c.maxBufferedRecords),
		kgo.MaxBufferedBytes(c.maxBufferedBytes),
		// A capped line plus key and headers must fit in a batch, or kgo
		// fails the record client-side. Above Kafka's default limit the
		// broker still accepts it when it compresses below
		// message.max.bytes (snappy, kgo's default); see the package doc.
		kgo.ProducerBatchMaxBytes(int32(max(kafkaBatchDefault, c.maxLine+recordHeadroom))),
	}
	if c.autoCreateTopic {
		kopts = append(kopts, kgo.AllowAutoTopicCreation())
	}
	client, err := kgo.NewClient(append(kopts, c.kafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %v: %w", brokers, err)
	}
	return client, nil
}
