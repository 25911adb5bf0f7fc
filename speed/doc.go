// Package speed is the speed layer: a Kafka consumer group member that
// turns records into pane states (views.Pane) per partition and writes them
// to MongoDB within seconds, exactly once, without transactions.
package speed
