package batch

import "github.com/twmb/franz-go/pkg/kgo"

// KafkaOpts adds kgo options to every client compaction builds, for what
// the brokers require of a client (TLS, SASL).
func KafkaOpts(o ...kgo.Opt) Opt {
	return own("KafkaOpts", func(c *cfg) { c.kafkaOpts = append(c.kafkaOpts, o...) })
}
