// Package secure holds how loglambda reaches a Kafka cluster or a MongoDB
// that requires encryption and authentication: TLS settings read from
// files (a CA bundle, a client certificate and key), SASL for Kafka through
// franz-go's own mechanisms (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), and the
// redaction that keeps passwords in connection strings out of logs and
// answers.
//
// The commands build a KafkaConfig or MongoTLS from their flags and hand
// the result (kgo options, driver options) to the layers, which stay
// unaware of where the settings came from.
package secure
