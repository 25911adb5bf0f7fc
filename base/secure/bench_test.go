package secure_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/base/secure"
	"github.com/loglambda/loglambda/base/secure/securetest"
)

// BenchmarkKafkaRoundTrip produces and consumes 200 000 lines of 200
// bytes through kfake, plaintext (the limit) beside TLS with
// SCRAM-SHA-512: what encryption and authentication cost a layer.
func BenchmarkKafkaRoundTrip(b *testing.B) {
	const n = 200_000
	certs := securetest.New(b)
	line := make([]byte, 200)
	for i := range line {
		line[i] = 'a' + byte(i%26)
	}
	for _, c := range []struct {
		name string
		tls  bool
	}{{"plaintext", false}, {"tls+scram-sha-512", true}} {
		b.Run(c.name, func(b *testing.B) {
			kopts := []kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(4)}
			var cfg secure.KafkaConfig
			if c.tls {
				kopts = append(kopts, kfake.TLS(certs.ServerConfig(b, false)), kfake.EnableSASL(),
					kfake.Superuser(secure.SASLScramSHA512, "bench", "bench-password"))
				cfg = secure.KafkaConfig{TLSFiles: secure.TLSFiles{CAFile: certs.CA}, SASLMechanism: secure.SASLScramSHA512,
					SASLUser: "bench", SASLPassword: "bench-password"}
			}
			kc, err := kfake.NewCluster(kopts...)
			if err != nil {
				b.Fatal(err)
			}
			defer kc.Close()
			opts, err := cfg.Opts()
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			b.ResetTimer()
			for i := range b.N {
				topic := fmt.Sprintf("bench-%d", i)
				prod, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation()}, opts...)...)
				if err != nil {
					b.Fatal(err)
				}
				for range n {
					prod.Produce(ctx, &kgo.Record{Value: line}, nil)
				}
				if err := prod.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				prod.Close()
				cons, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics(topic),
					kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
				if err != nil {
					b.Fatal(err)
				}
				for got := 0; got < n; {
					fs := cons.PollFetches(ctx)
					if err := fs.Err0(); err != nil {
						b.Fatal(err)
					}
					got += fs.NumRecords()
				}
				cons.Close()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
