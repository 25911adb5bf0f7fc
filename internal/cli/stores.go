package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/loglambda/loglambda/internal/embedded"
)

// runStores serves up's embedded stores, and nothing else, until
// interrupted: the broker and MongoDB of a deployment whose layers run as
// separate processes (several speed members, batch, serve), and of the
// fault tests that kill or stop the stores apart from the layers (one
// process per store: --mongo=false or --kafka=false).
func runStores(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("stores", "stores [--data DIR] [flags]")
	var (
		data, kafkaListen, mongoListen, topic string
		partitions                            int
		withKafka, withMongo                  bool
	)
	fs.StringVar(&data, "data", defaultDataDir, "directory for what the stores keep: kafka/ and mongo/ (the same layout as up's)")
	fs.StringVar(&kafkaListen, "kafka-listen", "127.0.0.1:9092", "address of the embedded Kafka broker")
	fs.StringVar(&mongoListen, "mongo-listen", "127.0.0.1:27017", "address of the embedded MongoDB wire-protocol server")
	registerTopic(fs, &topic)
	fs.IntVar(&partitions, "partitions", 4, "partitions of the topic when it is created")
	fs.BoolVar(&withKafka, "kafka", true, "serve the embedded Kafka broker")
	fs.BoolVar(&withMongo, "mongo", true, "serve the embedded MongoDB")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case !withKafka && !withMongo:
		return errors.New("--kafka=false and --mongo=false: nothing to serve")
	case partitions < 1 || partitions > 1000:
		return fmt.Errorf("--partitions %d must be within 1..1000", partitions)
	}
	if withKafka {
		k, err := embedded.StartKafka(embedded.KafkaConfig{Listen: kafkaListen, DataDir: filepath.Join(data, "kafka"),
			Topic: topic, Partitions: int32(partitions)})
		if err != nil {
			return err
		}
		defer k.Close()
		fmt.Fprintf(stdout, "kafka: %s\n", k.Addrs()[0])
	}
	if withMongo {
		m, err := embedded.StartMongo(embedded.MongoConfig{Listen: mongoListen, DataDir: filepath.Join(data, "mongo")})
		if err != nil {
			return err
		}
		defer m.Close()
		fmt.Fprintf(stdout, "mongodb: %s\n", m.URI())
	}
	<-ctx.Done()
	return nil
}
