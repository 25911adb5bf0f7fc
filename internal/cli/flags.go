package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/internal/secure"
	"github.com/loglambda/loglambda/schemas/formats"
	"github.com/loglambda/loglambda/schemas/views"
)

// commonFlags are the flags every layer command shares (speed, batch,
// serve, up), registered once here so their names, defaults and help text
// agree everywhere.
type commonFlags struct {
	brokers  string
	topic    string
	mongoURI string
	mongoDB  string
	format   string
	jsonMap  string
	hotTerm  string
	uvField  string
	pane     time.Duration
	lateness time.Duration

	// Security of the connections (security.go).
	kafkaSec kafkaSecFlags
	mongoTLS mongoTLSFlags
}

// register adds the common flags to fs.
func (c *commonFlags) register(fs *flag.FlagSet) {
	c.registerStore(fs)
	fs.StringVar(&c.brokers, "brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma separated")
	fs.StringVar(&c.format, "format", "json", "parser for records without a format header (json, json:field=key,..., combined, common, regex:, grok:, header:)")
	fs.StringVar(&c.jsonMap, "map", "", mapUsage)
	fs.StringVar(&c.hotTerm, "hot-term", "param:q,Input", "search term of the hot view: param:NAMES (URL query) or field:NAME")
	fs.StringVar(&c.uvField, "uv-field", formats.DefaultUVField, "visitor identity of UV: comma list of fields (user, ip, or a kept extra field); the first with a value other than \"-\" counts. Access logs without users: ip")
	fs.DurationVar(&c.lateness, "lateness", 2*time.Minute, "allowed lateness: the watermark is the newest event time minus this")
	c.kafkaSec.register(fs)
}

// registerStore adds only the flags of a command that reads the views from
// MongoDB and never Kafka (serve): topic, mongo-uri, mongo-db and pane.
func (c *commonFlags) registerStore(fs *flag.FlagSet) {
	fs.StringVar(&c.topic, "topic", "logs", "Kafka topic of the raw log lines")
	fs.StringVar(&c.mongoURI, "mongo-uri", "mongodb://127.0.0.1:27017", "MongoDB connection string")
	fs.StringVar(&c.mongoDB, "mongo-db", "loglambda", "MongoDB database of the views")
	fs.DurationVar(&c.pane, "pane", views.DefaultPane, "pane width of every view; must divide an hour")
	c.mongoTLS.register(fs)
}

// brokerList is --brokers split on commas.
func (c *commonFlags) brokerList() []string { return splitList(c.brokers) }

// validate checks the common flags, naming the flag and its value. It
// folds --map into --format, so the layers see one parser spec.
func (c *commonFlags) validate() error {
	if len(c.brokerList()) == 0 {
		return errors.New("--brokers is empty")
	}
	if c.topic == "" {
		return errors.New("--topic is empty")
	}
	if c.mongoDB == "" {
		return errors.New("--mongo-db is empty")
	}
	if _, err := views.NewGrid(c.pane); err != nil {
		return fmt.Errorf("--pane %s: %w", c.pane, err)
	}
	if c.lateness < 0 {
		return fmt.Errorf("--lateness %s is negative", c.lateness)
	}
	spec, err := withJSONMap(c.format, c.jsonMap)
	if err != nil {
		return err
	}
	c.format, c.jsonMap = spec, ""
	if _, err := formats.New(c.format); err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	if _, err := formats.NewHotTerm(c.hotTerm); err != nil {
		return fmt.Errorf("--hot-term: %w", err)
	}
	if _, err := formats.NewUVField(c.uvField); err != nil {
		return fmt.Errorf("--uv-field: %w", err)
	}
	return nil
}

// connectMongo connects to --mongo-uri and checks the server answers, so a
// wrong address fails at start and not at the first write. close
// disconnects.
func (c *commonFlags) connectMongo(ctx context.Context) (db *mongo.Database, close func(), err error) {
	// Errors name the URI with its password redacted, and the driver's
	// own messages lose it too, should one ever quote the URI.
	uri, password := secure.RedactURI(c.mongoURI), secure.URIPassword(c.mongoURI)
	opts := options.Client().ApplyURI(c.mongoURI).SetServerSelectionTimeout(10 * time.Second)
	if err := c.mongoTLS.apply(opts); err != nil {
		return nil, nil, err
	}
	cl, err := mongo.Connect(opts)
	if err != nil {
		return nil, nil, secure.RedactError(fmt.Errorf("connect %s: %w", uri, err), password)
	}
	close = func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = cl.Disconnect(ctx)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Ping(pctx, nil); err != nil {
		close()
		return nil, nil, secure.RedactError(fmt.Errorf("connect %s: %w", uri, err), password)
	}
	slog.Info("connected to mongodb", "uri", uri, "db", c.mongoDB)
	return cl.Database(c.mongoDB), close, nil
}

// mapUsage is the help text of --map, shared by every command that has it.
const mapUsage = "JSON field mapping field=key,... (e.g. ts=@timestamp,msg=message): the Event field ts is read from the key @timestamp; only with --format json"

// withJSONMap folds a --map value into a json format spec: json plus
// ts=@timestamp is json:ts=@timestamp, the spec that travels in the format
// header, so speed and batch rebuild the same mapping from the header.
func withJSONMap(format, mapping string) (string, error) {
	if mapping == "" {
		return format, nil
	}
	if format != "json" {
		return "", fmt.Errorf("--map %q needs --format json, not %q (or write the mapping in the spec: json:%s)", mapping, format, mapping)
	}
	spec := "json:" + mapping
	if _, err := formats.New(spec); err != nil {
		return "", fmt.Errorf("--map %q: %w", mapping, err)
	}
	return spec, nil
}
