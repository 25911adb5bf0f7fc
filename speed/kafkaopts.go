package speed

import "github.com/twmb/franz-go/pkg/kgo"

// KafkaOpts adds kgo options to the consumer speed builds, for what the
// brokers require of a client (TLS, SASL); the options speed sets for its
// own correctness (group, offsets, rebalance callbacks) come first and
// should not be overridden.
func KafkaOpts(o ...kgo.Opt) Opt { return withClientOpts(o...) }
