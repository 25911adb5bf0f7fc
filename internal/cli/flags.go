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

	"github.com/loglambda/loglambda/base/secure"
	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/ingest"
	"github.com/loglambda/loglambda/schemas/patterns"
	"github.com/loglambda/loglambda/schemas/views"
)

// commonFlags are the flags every layer command shares (speed, batch,
// serve, up), registered once here so their names, defaults and help text
// agree everywhere.
type commonFlags struct {
	brokers  string
	mongoURI string
	mongoDB  string
	viewFlags

	// Security of the connections (security.go).
	kafkaSec kafkaSecFlags
	mongoTLS mongoTLSFlags
}

// register adds the common flags to fs.
func (c *commonFlags) register(fs *flag.FlagSet) {
	c.viewFlags.register(fs)
	c.registerMongo(fs)
	registerBrokers(fs, &c.brokers)
	c.kafkaSec.register(fs)
}

// producerFlags are the flags of a command that writes to Kafka (gen,
// ship): where to (--brokers, --topic) and the Kafka security flags.
type producerFlags struct {
	brokers string
	topic   string
	sec     kafkaSecFlags
}

// register adds --brokers, --topic and the Kafka security flags.
func (p *producerFlags) register(fs *flag.FlagSet) {
	registerBrokers(fs, &p.brokers)
	registerTopic(fs, &p.topic)
	p.sec.register(fs)
}

// brokerList is --brokers split on commas.
func (p *producerFlags) brokerList() []string { return splitList(p.brokers) }

// viewFlags are what every layer command, up included, reads the log with
// and cuts the views by: the topic, the ingest rules, the panes, the
// lateness and the clusters view's settings.
type viewFlags struct {
	topic    string
	format   string
	jsonMap  string
	hotTerm  string
	uvField  string // "" (a config built in code): ingest.DefaultUVField
	pane     time.Duration
	lateness time.Duration
	clusters clusterFlags
	// newGeneration replaces the views' recorded contract with these
	// settings instead of refusing them (--new-generation).
	newGeneration bool
	// rules are the ingest rules parsed by validate, once for all the
	// layers of the command; nil in a config built in code without
	// validate, and then each layer parses them.
	rules *ingest.Rules
}

// register adds --topic, the ingest rules, --pane, --lateness and the
// clusters view's flags.
func (v *viewFlags) register(fs *flag.FlagSet) {
	registerTopic(fs, &v.topic)
	registerIngest(fs, &v.format, &v.jsonMap, &v.hotTerm, &v.uvField)
	registerPane(fs, &v.pane)
	registerLateness(fs, &v.lateness)
	v.clusters.register(fs)
	registerNewGeneration(fs, &v.newGeneration)
}

// registerNewGeneration adds --new-generation.
func registerNewGeneration(fs *flag.FlagSet, v *bool) {
	fs.BoolVar(v, "new-generation", false, "record these view settings (pane, lateness, format, hot term, visitor field, clusters) as the views' contract when they differ from those recorded, instead of refusing to start")
}

// contract is the views' contract of the flags, as layer would record it.
func (v *viewFlags) contract(layer string) collections.Contract {
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	d := settings.Defaults()
	c := collections.Contract{Topic: v.topic, Pane: v.pane.String(), Lateness: v.lateness.String(),
		Format: or(v.format, d.Format), HotTerm: or(v.hotTerm, d.HotTerm), UVField: or(v.uvField, d.UVField),
		ClusterFields: d.ClusterFields, MicroClusters: d.MicroClusters, MinerVersion: patterns.MinerVersion, WrittenBy: layer}
	if v.jsonMap != "" {
		c.Format += " map " + v.jsonMap // a config built in code, not validated
	}
	if !v.clusters.unset() {
		c.ClusterFields, c.MicroClusters = v.clusters.fields, v.clusters.micro
	}
	return c
}

// ensureContract records the views' contract of the flags in db, or
// refuses to start when the one recorded differs (settings.EnsureContract);
// known limits the comparison to the flags the command has (nil: all).
// It returns the generation in force.
func (v *viewFlags) ensureContract(ctx context.Context, db *mongo.Database, layer string, known []string) (int64, error) {
	ct, err := settings.EnsureContract(ctx, db.Collection(collections.ContractCollection), v.contract(layer), known, v.newGeneration, slog.Default())
	return collections.CurrentGeneration(ct.Generation), err
}

// validate checks the view flags, naming the flag and its value, folds
// --map into --format, so the layers see one parser spec, and parses the
// ingest rules.
func (v *viewFlags) validate() error {
	if v.topic == "" {
		return errors.New("--topic is empty")
	}
	if _, err := views.NewGrid(v.pane); err != nil {
		return fmt.Errorf("--pane %s: %w", v.pane, err)
	}
	if v.lateness < 0 {
		return fmt.Errorf("--lateness %s is negative", v.lateness)
	}
	spec, err := ingest.WithJSONMap(v.format, v.jsonMap)
	if err != nil {
		return err
	}
	rules, err := (ingest.Spec{Format: spec, HotTerm: v.hotTerm, UVField: v.uvField}).Parse()
	if err != nil {
		return err
	}
	v.format, v.jsonMap, v.rules = spec, "", &rules
	return v.clusters.validate()
}

// layerOpts are the options speed and batch take from the view flags,
// with log as their logger.
func (v *viewFlags) layerOpts(log *slog.Logger) []settings.Opt {
	opts := []settings.Opt{settings.Topic(v.topic), settings.Pane(v.pane), settings.Lateness(v.lateness), settings.Logger(log)}
	if v.rules != nil {
		opts = append(opts, settings.Rules(*v.rules))
	} else {
		opts = append(opts, settings.Format(v.format), settings.HotTerm(v.hotTerm), settings.UVField(v.uvField))
	}
	return append(opts, v.clusters.opts()...)
}

// registerStore adds only the flags of a command that reads the views from
// MongoDB and never Kafka (serve): topic, mongo-uri, mongo-db and pane.
func (c *commonFlags) registerStore(fs *flag.FlagSet) {
	registerTopic(fs, &c.topic)
	registerPane(fs, &c.pane)
	registerNewGeneration(fs, &c.newGeneration)
	c.registerMongo(fs)
}

// registerMongo adds --mongo-uri, --mongo-db and MongoDB's TLS flags.
func (c *commonFlags) registerMongo(fs *flag.FlagSet) {
	fs.StringVar(&c.mongoURI, "mongo-uri", defaultMongoURI, "MongoDB connection string")
	registerMongoDB(fs, &c.mongoDB)
	c.mongoTLS.register(fs)
}

// The flags below are declared once each, with their default and help
// text, in groups: connection (brokers, topic, mongo-uri, mongo-db),
// ingest rules (format, map, hot-term, uv-field), panes and lateness.
// Every command that takes one registers it from here, up included, so
// a flag reads the same in every --help. The defaults of the settings
// the layers share are package settings' and ingest's.

// Connection defaults.
const (
	defaultBrokers  = "127.0.0.1:9092"
	defaultMongoURI = "mongodb://127.0.0.1:27017"
	defaultMongoDB  = "loglambda"
	// defaultDataDir is up's --data; the other commands' --lake defaults
	// to the lake in it, so `sql`, `batch` and `serve` find up's lake.
	defaultDataDir = "./data"
	defaultLakeDir = defaultDataDir + "/lake"
)

// API listen defaults of serve and up.
const (
	defaultHTTP = "127.0.0.1:8080"
	defaultGRPC = "127.0.0.1:9090"
)

// registerAPI adds --http and --grpc, the listen addresses of the API.
func registerAPI(fs *flag.FlagSet, httpAddr, grpcAddr *string) {
	fs.StringVar(httpAddr, "http", defaultHTTP, "HTTP API listen address")
	fs.StringVar(grpcAddr, "grpc", defaultGRPC, "gRPC API listen address (loglambda.v1.QueryService, health, reflection); empty: no gRPC")
}

// trafficFlags are the generator's settings: gen's, and up --demo's.
type trafficFlags struct {
	rate       float64
	seed       int64
	outOfOrder float64
	late       float64
}

// register adds --rate, --seed, --out-of-order and --late with the
// command's defaults of rate and late.
func (g *trafficFlags) register(fs *flag.FlagSet, rate, late float64) {
	fs.Float64Var(&g.rate, "rate", rate, "events per second of event time")
	fs.Int64Var(&g.seed, "seed", 1, "random seed: the same seed gives the same lines")
	fs.Float64Var(&g.outOfOrder, "out-of-order", gen.DefaultOutOfOrder, "share of events a few seconds to a minute out of order (within the default 2m lateness)")
	fs.Float64Var(&g.late, "late", late, "share of events 5-30 minutes late (beyond the default lateness: speed counts them in late_dropped, batch counts them in the views)")
}

// registerBrokers adds --brokers.
func registerBrokers(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "brokers", defaultBrokers, "Kafka bootstrap brokers, comma separated")
}

// registerTopic adds --topic.
func registerTopic(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "topic", settings.DefaultTopic, "Kafka topic of the raw log lines (the lake keeps it as <lake>/<topic>)")
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
	fs.DurationVar(p, "pane", settings.DefaultPane, "pane width of every view; must divide an hour")
}

// registerLateness adds --lateness.
func registerLateness(fs *flag.FlagSet, p *time.Duration) {
	fs.DurationVar(p, "lateness", settings.DefaultLateness, "allowed lateness: the watermark is the newest event time minus this")
}

// brokerList is --brokers split on commas.
func (c *commonFlags) brokerList() []string { return splitList(c.brokers) }

// validate checks the common flags, naming the flag and its value (the
// view flags with viewFlags.validate).
func (c *commonFlags) validate() error {
	if len(c.brokerList()) == 0 {
		return errors.New("--brokers is empty")
	}
	if c.mongoDB == "" {
		return errors.New("--mongo-db is empty")
	}
	return c.viewFlags.validate()
}

// connect makes the options a layer takes from the common flags (the
// view flags, the Kafka security flags, slog's default logger), checks
// that the brokers accept the credentials (a refused one fails within
// seconds, named) and connects to MongoDB: what speed and batch do once
// their flags are checked. rec records the layer running, or blocked and
// why when the brokers refuse it or the views' contract does (a serve
// running apart shows it). closeDB disconnects.
func (c *commonFlags) connect(ctx context.Context, rec *layerRecorder) (opts []settings.Opt, db *mongo.Database, closeDB func(), err error) {
	kopts, err := c.kafkaSec.opts()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := c.kafkaSec.checkCredentials(ctx, c.brokerList()); err != nil {
		rec.recordApart(ctx, c, err.Error())
		return nil, nil, nil, err
	}
	if db, closeDB, err = c.connectMongo(ctx); err != nil {
		return nil, nil, nil, err
	}
	gen, err := c.ensureContract(ctx, db, rec.layer, nil)
	if err != nil {
		rec.record(ctx, db, collections.LayerBlocked, err.Error())
		closeDB()
		return nil, nil, nil, err
	}
	rec.record(ctx, db, collections.LayerRunning, "")
	return append(c.layerOpts(slog.Default()), settings.KafkaOpts(kopts...), settings.Generation(gen)), db, closeDB, nil
}

// connectMongo connects to --mongo-uri and checks the server answers, so a
// wrong address fails at start and not at the first write. close
// disconnects.
func (c *commonFlags) connectMongo(ctx context.Context) (db *mongo.Database, close func(), err error) {
	return c.connectMongoWithin(ctx, 10*time.Second)
}

// connectMongoWithin is connectMongo with its server selection and ping
// bounded by timeout.
func (c *commonFlags) connectMongoWithin(ctx context.Context, timeout time.Duration) (db *mongo.Database, close func(), err error) {
	// Errors name the URI with its password redacted, and the driver's
	// own messages lose it too, should one ever quote the URI.
	uri, password := secure.RedactURI(c.mongoURI), secure.URIPassword(c.mongoURI)
	opts := options.Client().ApplyURI(c.mongoURI).SetServerSelectionTimeout(timeout)
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
	pctx, cancel := context.WithTimeout(ctx, timeout)
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
