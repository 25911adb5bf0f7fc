package ship

import "github.com/twmb/franz-go/pkg/kgo"

// KafkaOpts adds kgo options to the producer, for what the brokers require
// of a client (TLS, SASL).
func KafkaOpts(o ...kgo.Opt) Opt { return func(c *cfg) { c.kafkaOpts = append(c.kafkaOpts, o...) } }
