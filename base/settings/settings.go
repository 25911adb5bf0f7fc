// Package settings holds what the speed and batch layers both take, written
// once: the topic, the ingest rules, the pane width and the lateness,
// the logger, the MongoDB writer and the Kafka client options; their
// defaults, their checks and their options. The options
// follow franz-go's kgo: one Opt type, and every option a function
// returning one; a layer's own options (speed's consumer group, batch's
// grace) are made with Own and given to the same New.
package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/schemas/ingest"
	"github.com/loglambda/loglambda/schemas/views"
)

// Defaults of the shared settings, printed by every command's --help.
const (
	DefaultTopic    = "logs"
	DefaultLateness = 2 * time.Minute
	DefaultFormat   = ingest.DefaultFormat
	DefaultHotTerm  = ingest.DefaultHotTerm
	DefaultUVField  = ingest.DefaultUVField
	DefaultPane     = views.DefaultPane
	// DefaultClusterFields and DefaultMicroClusters make the clusters
	// view's spec; Defaults is the one place they are applied.
	DefaultClusterFields = views.DefaultClusterFields
	DefaultMicroClusters = views.DefaultMicroClusters
)

// Settings are the settings speed and batch share. Each layer's
// configuration embeds them, so the shared options set them, Check checks
// them and the layer reads them (c.Topic, c.Pane) in one form.
type Settings struct {
	Topic   string
	Format  string // parser spec of records without a "format" header
	HotTerm string
	UVField string
	// Pane is the pane width of the views; Lateness how far behind a
	// partition's newest event time an event still counts.
	Pane, Lateness time.Duration
	Logger         *slog.Logger
	// Rules holds the ingest rules given already parsed (the Rules
	// option); nil: Check parses Format, HotTerm and UVField.
	Rules *ingest.Rules
	// ClusterFields and MicroClusters make the clusters view's spec;
	// Defaults sets them, Check checks them and never defaults them, so
	// MicroClusters 0 is refused, not taken for the default.
	ClusterFields string
	MicroClusters int
	// Writer writes the layer's MongoDB documents (nil: Check makes one
	// of the layer's own).
	Writer *replace.Writer
	// KafkaOpts are added to every Kafka client the layer builds.
	KafkaOpts []kgo.Opt
	// Generation is the views' contract generation in force (the
	// contract document's, from EnsureContract; 0 is read as 1): the
	// layer tags what it writes with it, batch recomputes the whole lake
	// when its last recompute was of another, speed starts a partition
	// over when its checkpoint is of another.
	Generation int64
}

// Defaults returns the shared settings at their defaults; a layer's
// default configuration starts with them.
func Defaults() Settings {
	return Settings{Topic: DefaultTopic, Format: DefaultFormat, HotTerm: DefaultHotTerm, UVField: DefaultUVField,
		Pane: DefaultPane, Lateness: DefaultLateness, Logger: slog.Default(),
		ClusterFields: DefaultClusterFields, MicroClusters: DefaultMicroClusters}
}

// Layer returns s: a configuration embedding Settings has Config's Layer
// through it.
func (s *Settings) Layer() *Settings { return s }

// Checked is what Check makes of the shared settings: the ingest rules,
// the pane grid, the clusters view's spec and the MongoDB writer.
type Checked struct {
	Rules    ingest.Rules
	Grid     views.Grid
	Clusters *views.ClusterSpec
	Writer   *replace.Writer
}

// Config is a layer's configuration: the shared settings, embedded, and
// the layer's own, which Validate checks.
type Config interface {
	Layer() *Settings
	// Validate checks the layer's own settings, naming each with its
	// value in the error.
	Validate() error
}

// Opt configures a layer; see the layer's New.
type Opt interface{ apply(Config) error }

type optFunc func(Config) error

func (f optFunc) apply(c Config) error { return f(c) }

func shared(set func(*Settings)) Opt {
	return optFunc(func(c Config) error { set(c.Layer()); return nil })
}

// Own returns an option of one layer's own settings: f runs on the
// configuration when it is a C, and New fails naming the option when the
// option is given to another layer.
func Own[C Config](name string, f func(C)) Opt {
	return optFunc(func(c Config) error {
		own, ok := c.(C)
		if !ok {
			return fmt.Errorf("option %s is not an option of this layer", name)
		}
		f(own)
		return nil
	})
}

// Configure applies opts to c in order, then checks the shared settings
// (Check) and the layer's own (c.Validate), and returns the shared ones
// parsed. A layer's New starts with it.
func Configure(c Config, opts []Opt) (Checked, error) {
	for _, o := range opts {
		if err := o.apply(c); err != nil {
			return Checked{}, err
		}
	}
	ck, err := c.Layer().Check()
	if err != nil {
		return Checked{}, err
	}
	if err := c.Validate(); err != nil {
		return Checked{}, err
	}
	return ck, nil
}

// Check checks the shared settings, naming each with its value, and
// returns them parsed.
func (s *Settings) Check() (Checked, error) {
	switch {
	case s.Topic == "":
		return Checked{}, errors.New("topic is empty")
	case s.Lateness < 0:
		return Checked{}, fmt.Errorf("lateness %s is negative", s.Lateness)
	case s.Logger == nil:
		return Checked{}, errors.New("logger is nil")
	}
	var ck Checked
	var err error
	if ck.Grid, err = views.NewGrid(s.Pane); err != nil {
		return Checked{}, err
	}
	if s.Rules != nil {
		ck.Rules = *s.Rules
	} else if ck.Rules, err = (ingest.Spec{Format: s.Format, HotTerm: s.HotTerm, UVField: s.UVField}).Parse(); err != nil {
		return Checked{}, err
	}
	if ck.Clusters, err = views.NewClusterSpec(s.ClusterFields, s.MicroClusters, views.DefaultClusterCell); err != nil {
		return Checked{}, fmt.Errorf("cluster fields %q, micro-clusters %d: %w", s.ClusterFields, s.MicroClusters, err)
	}
	if ck.Writer = s.Writer; ck.Writer == nil {
		if ck.Writer, err = replace.New(); err != nil {
			return Checked{}, err
		}
	}
	return ck, nil
}

// Topic is the Kafka topic the layer reads (default "logs"). One topic per
// MongoDB database: view document ids name the partition, not the topic.
func Topic(t string) Opt { return shared(func(s *Settings) { s.Topic = t }) }

// Format is the parser spec (formats.New) of records without a "format"
// header (default "json").
func Format(spec string) Opt { return shared(func(s *Settings) { s.Format = spec }) }

// HotTerm is the rule extracting the hot view's search term
// (formats.NewHotTerm; default "param:q,Input").
func HotTerm(rule string) Opt { return shared(func(s *Settings) { s.HotTerm = rule }) }

// UVField is the visitor identity rule (formats.NewUVField; default
// "user,ip"): the first of these fields with a value is the visitor counted
// by UV. Plain access logs have no user: "ip". Speed and batch must use the
// same rule, or UV changes at the batch horizon.
func UVField(rule string) Opt { return shared(func(s *Settings) { s.UVField = rule }) }

// Pane is the pane width of the views; it must divide an hour and be the
// same in speed and batch (default 1m).
func Pane(d time.Duration) Opt { return shared(func(s *Settings) { s.Pane = d }) }

// Lateness is how far behind the newest event time of a partition an
// event may be and still count in speed (default 2m): the watermark is
// the newest event time minus the lateness. Batch treats an hour as read
// on a partition only once the partition is that far past the hour's end.
func Lateness(d time.Duration) Opt { return shared(func(s *Settings) { s.Lateness = d }) }

// Generation is the views' contract generation in force
// (collections.Contract.Generation; default 1).
func Generation(g int64) Opt { return shared(func(s *Settings) { s.Generation = g }) }

// Logger receives the layer's logs (default slog.Default()).
func Logger(l *slog.Logger) Opt { return shared(func(s *Settings) { s.Logger = l }) }

// Rules gives the ingest rules already parsed (ingest.Spec.Parse), so a
// command that checked its flags parses them once for all its layers;
// they take the place of Format, HotTerm and UVField.
func Rules(r ingest.Rules) Opt { return shared(func(s *Settings) { s.Rules = &r }) }

// ClusterFields are the numeric event fields the clusters view clusters
// on, comma separated (default views.DefaultClusterFields): latency_ms,
// bytes, status or any extra field holding numbers. Empty: the view
// counts nothing (its documents stay empty). Speed and batch must use the
// same fields, or their states do not merge.
func ClusterFields(fields string) Opt {
	return shared(func(s *Settings) { s.ClusterFields = fields })
}

// MicroClusters is the number of micro-clusters a pane keeps per
// partition (default views.DefaultMicroClusters).
func MicroClusters(n int) Opt { return shared(func(s *Settings) { s.MicroClusters = n }) }

// Writer is the MongoDB writer of the layer's documents (default: a
// replace.Writer of its own). Layers sharing one embedded store share one
// Writer, which runs one command at a time (see package replace).
func Writer(w *replace.Writer) Opt { return shared(func(s *Settings) { s.Writer = w }) }

// KafkaOpts adds kgo options to every Kafka client the layer builds, for
// what the brokers require of a client (TLS, SASL). The options a layer
// sets for its own correctness (speed's group, offsets and rebalance
// callbacks; batch's partitions and offsets) come first and should not be
// overridden.
func KafkaOpts(o ...kgo.Opt) Opt {
	return shared(func(s *Settings) { s.KafkaOpts = append(s.KafkaOpts, o...) })
}
