package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/internal/layer"
	"github.com/loglambda/loglambda/schemas/ingest"
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
}

// register adds the common flags to fs.
func (c *commonFlags) register(fs *flag.FlagSet) {
	c.registerStore(fs)
	registerBrokers(fs, &c.brokers)
	registerIngest(fs, &c.format, &c.jsonMap, &c.hotTerm, &c.uvField)
	registerLateness(fs, &c.lateness)
}

// registerStore adds only the flags of a command that reads the views from
// MongoDB and never Kafka (serve): topic, mongo-uri, mongo-db and pane.
func (c *commonFlags) registerStore(fs *flag.FlagSet) {
	registerTopic(fs, &c.topic)
	fs.StringVar(&c.mongoURI, "mongo-uri", defaultMongoURI, "MongoDB connection string")
	registerMongoDB(fs, &c.mongoDB)
	registerPane(fs, &c.pane)
}

// The flags below are declared once each, with their default and help
// text, in groups: connection (brokers, topic, mongo-uri, mongo-db),
// ingest rules (format, map, hot-term, uv-field), panes and lateness.
// Every command that takes one registers it from here, up included, so
// a flag reads the same in every --help. The defaults of the settings
// the layers share are package layer's and ingest's.

// Connection defaults.
const (
	defaultBrokers  = "127.0.0.1:9092"
	defaultMongoURI = "mongodb://127.0.0.1:27017"
	defaultMongoDB  = "loglambda"
	defaultLakeDir  = "./lake"
)

// registerBrokers adds --brokers.
func registerBrokers(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "brokers", defaultBrokers, "Kafka bootstrap brokers, comma separated")
}

// registerTopic adds --topic.
func registerTopic(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "topic", layer.DefaultTopic, "Kafka topic of the raw log lines (the lake keeps it as <lake>/<topic>)")
}

// registerMongoDB adds --mongo-db.
func registerMongoDB(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "mongo-db", defaultMongoDB, "MongoDB database of the views")
}

// registerFormat adds --format and --map, the rules of how a line
// becomes an event (ship, speed, batch, up).
func registerFormat(fs *flag.FlagSet, format, jsonMap *string) {
	fs.StringVar(format, "format", ingest.DefaultFormat, "parser of lines, and of records without a format header (json, json:field=key,..., combined, common, regex:<re>, grok:<pattern>, header:<...>); travels as the \"format\" record header")
	fs.StringVar(jsonMap, "map", "", mapUsage)
}

// registerIngest adds the ingest rules: --format, --map, --hot-term and
// --uv-field.
func registerIngest(fs *flag.FlagSet, format, jsonMap, hotTerm, uvField *string) {
	registerFormat(fs, format, jsonMap)
	fs.StringVar(hotTerm, "hot-term", ingest.DefaultHotTerm, "search term of the hot view: param:NAMES (first present URL query parameter) or field:NAME")
	fs.StringVar(uvField, "uv-field", ingest.DefaultUVField, "visitor identity of UV: comma list of fields (user, ip, or a kept extra field); the first with a value other than \"-\" counts. Access logs without users: ip")
}

// registerPane adds --pane.
func registerPane(fs *flag.FlagSet, p *time.Duration) {
	fs.DurationVar(p, "pane", layer.DefaultPane, "pane width of every view; must divide an hour")
}

// registerLateness adds --lateness.
func registerLateness(fs *flag.FlagSet, p *time.Duration) {
	fs.DurationVar(p, "lateness", layer.DefaultLateness, "allowed lateness: the watermark is the newest event time minus this")
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
	spec, err := ingest.WithJSONMap(c.format, c.jsonMap)
	if err != nil {
		return err
	}
	if _, err := (ingest.Spec{Format: spec, HotTerm: c.hotTerm, UVField: c.uvField}).Parse(); err != nil {
		return err
	}
	c.format, c.jsonMap = spec, ""
	return nil
}

// connectMongo connects to --mongo-uri and checks the server answers, so a
// wrong address fails at start and not at the first write. close
// disconnects.
func (c *commonFlags) connectMongo(ctx context.Context) (db *mongo.Database, close func(), err error) {
	cl, err := mongo.Connect(options.Client().ApplyURI(c.mongoURI).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", c.mongoURI, err)
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
		return nil, nil, fmt.Errorf("connect %s: %w", c.mongoURI, err)
	}
	return cl.Database(c.mongoDB), close, nil
}

// mapUsage is the help text of --map, shared by every command that has it.
const mapUsage = "JSON field mapping field=key,... (e.g. ts=@timestamp,msg=message): the Event field ts is read from the key @timestamp; only with --format json"
