// Package embedded runs the real servers loglambda talks to inside the
// process: a Kafka-protocol broker (franz-go's kfake) and a MongoDB
// wire-protocol server (FerretDB with its SQLite backend). `loglambda up`
// uses them to be a whole lambda stack in one process, and the layers'
// tests use them so that every test talks Kafka and MongoDB for real.
//
// This package is not a layer: it holds process infrastructure that several
// layers' tests and the root command share, which is why it lives under
// internal/ rather than in one of the layers.
package embedded
