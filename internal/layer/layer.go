// Package layer holds what the speed and batch layers both take, written
// once: the topic, the ingest rules, the pane width and the lateness,
// the logger; their defaults, their checks and their options. The options
// follow franz-go's kgo: one Opt type, and every option a function
// returning one; a layer's own options (speed's consumer group, batch's
// grace) are made with Own and given to the same New.
package layer

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

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
)

// Fields points at a layer's copy of the shared settings: the layer keeps
// them in its own configuration, under its own names, and gives the
// shared options and checks these pointers.
type Fields struct {
	Topic, Format, HotTerm, UVField *string
	Pane, Lateness                  *time.Duration
	Logger                          **slog.Logger
	// Rules holds the ingest rules given already parsed (the Rules
	// option); nil: Check parses Format, HotTerm and UVField.
	Rules **ingest.Rules
	// ClusterFields (nil: views.DefaultClusterFields) and MicroClusters
	// (0: views.DefaultMicroClusters) make the clusters view's spec.
	ClusterFields **string
	MicroClusters *int
}

// Checked is what Check makes of the shared settings: the ingest rules,
// the pane grid and the clusters view's spec.
type Checked struct {
	Rules    ingest.Rules
	Grid     views.Grid
	Clusters *views.ClusterSpec
}

// Config is a layer's configuration.
type Config interface {
	// LayerFields returns pointers to its shared settings.
	LayerFields() Fields
}

// Opt configures a layer; see the layer's New.
type Opt interface{ apply(Config) error }

type optFunc func(Config) error

func (f optFunc) apply(c Config) error { return f(c) }

func shared(set func(Fields)) Opt {
	return optFunc(func(c Config) error { set(c.LayerFields()); return nil })
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

// SetDefaults sets the shared settings of c to their defaults; a layer's
// default configuration starts with it.
func SetDefaults(c Config) {
	f := c.LayerFields()
	*f.Topic, *f.Format, *f.HotTerm, *f.UVField = DefaultTopic, DefaultFormat, DefaultHotTerm, DefaultUVField
	*f.Pane, *f.Lateness, *f.Logger = DefaultPane, DefaultLateness, slog.Default()
}

// Apply applies opts to c in order.
func Apply(c Config, opts []Opt) error {
	for _, o := range opts {
		if err := o.apply(c); err != nil {
			return err
		}
	}
	return nil
}

// Check checks the shared settings of c, naming each with its value, and
// returns them parsed.
func Check(c Config) (Checked, error) {
	f := c.LayerFields()
	switch {
	case *f.Topic == "":
		return Checked{}, errors.New("topic is empty")
	case *f.Lateness < 0:
		return Checked{}, fmt.Errorf("lateness %s is negative", *f.Lateness)
	case *f.Logger == nil:
		return Checked{}, errors.New("logger is nil")
	}
	var ck Checked
	var err error
	if ck.Grid, err = views.NewGrid(*f.Pane); err != nil {
		return Checked{}, err
	}
	if *f.Rules != nil {
		ck.Rules = **f.Rules
	} else if ck.Rules, err = (ingest.Spec{Format: *f.Format, HotTerm: *f.HotTerm, UVField: *f.UVField}).Parse(); err != nil {
		return Checked{}, err
	}
	fields, n := views.DefaultClusterFields, *f.MicroClusters
	if *f.ClusterFields != nil {
		fields = **f.ClusterFields
	}
	if n == 0 {
		n = views.DefaultMicroClusters
	}
	if ck.Clusters, err = views.NewClusterSpec(fields, n, views.DefaultClusterBoundary); err != nil {
		return Checked{}, err
	}
	return ck, nil
}

// Topic is the Kafka topic the layer reads (default "logs"). One topic per
// MongoDB database: view document ids name the partition, not the topic.
func Topic(t string) Opt { return shared(func(f Fields) { *f.Topic = t }) }

// Format is the parser spec (formats.New) of records without a "format"
// header (default "json").
func Format(spec string) Opt { return shared(func(f Fields) { *f.Format = spec }) }

// HotTerm is the rule extracting the hot view's search term
// (formats.NewHotTerm; default "param:q,Input").
func HotTerm(rule string) Opt { return shared(func(f Fields) { *f.HotTerm = rule }) }

// UVField is the visitor identity rule (formats.NewUVField; default
// "user,ip"): the first of these fields with a value is the visitor counted
// by UV. Plain access logs have no user: "ip". Speed and batch must use the
// same rule, or UV changes at the batch horizon.
func UVField(rule string) Opt { return shared(func(f Fields) { *f.UVField = rule }) }

// Pane is the pane width of the views; it must divide an hour and be the
// same in speed and batch (default 1m).
func Pane(d time.Duration) Opt { return shared(func(f Fields) { *f.Pane = d }) }

// Lateness is how far behind the newest event time of a partition an
// event may be and still count in speed (default 2m): the watermark is
// the newest event time minus the lateness. Batch treats an hour as read
// on a partition only once the partition is that far past the hour's end.
func Lateness(d time.Duration) Opt { return shared(func(f Fields) { *f.Lateness = d }) }

// Logger receives the layer's logs (default slog.Default()).
func Logger(l *slog.Logger) Opt { return shared(func(f Fields) { *f.Logger = l }) }

// Rules gives the ingest rules already parsed (ingest.Spec.Parse), so a
// command that checked its flags parses them once for all its layers;
// they take the place of Format, HotTerm and UVField.
func Rules(r ingest.Rules) Opt { return shared(func(f Fields) { *f.Rules = &r }) }

// ClusterFields are the numeric event fields the clusters view clusters
// on, comma separated (default views.DefaultClusterFields): latency_ms,
// bytes, status or any extra field holding numbers. Empty: the view
// counts nothing (its documents stay empty). Speed and batch must use the
// same fields, or their states do not merge.
func ClusterFields(fields string) Opt {
	return shared(func(f Fields) { *f.ClusterFields = &fields })
}

// MicroClusters is the number of micro-clusters a pane keeps per
// partition (default views.DefaultMicroClusters).
func MicroClusters(n int) Opt { return shared(func(f Fields) { *f.MicroClusters = n }) }
