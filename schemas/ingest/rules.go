// Package ingest is how a Kafka record becomes an Event, written once for
// every layer that reads records or lines: speed, batch, ship and patterns.
// The lambda merge needs both layers to count a record the same way, so
// the rules (default format, field map, time layouts, hot term, visitor
// field) are parsed once into Rules, and one Decoder applies them: one
// header rule, one bounded parser cache, one parse-error form.
package ingest

import (
	"errors"
	"fmt"

	"github.com/loglambda/loglambda/schemas/formats"
)

// Defaults of the ingest rules, printed by every command's --help.
const (
	DefaultFormat  = "json"
	DefaultHotTerm = "param:q,Input"
	DefaultUVField = formats.DefaultUVField
)

// Spec is the ingest rules as written (flags, options): text, not yet
// checked. The zero Spec means the defaults.
type Spec struct {
	// Format is the parser spec (formats.New) of records without a
	// "format" header, and of the lines ship and patterns read.
	Format string
	// Map is a JSON field mapping field=key,... folded into a json Format
	// (json + ts=@timestamp is json:ts=@timestamp), so the mapping travels
	// in the format header.
	Map string
	// TimeLayouts are Go time layouts tried before the built-in ones;
	// they are written into the format spec (formats.NewWithOptions) so
	// that they too travel in the header.
	TimeLayouts []string
	// HotTerm is the rule of the hot view's search term (formats.NewHotTerm).
	HotTerm string
	// UVField is the visitor identity rule (formats.NewUVField).
	UVField string
}

// Rules is a Spec parsed and checked: a value, safe to share between
// goroutines; each goroutine decodes with its own Decoder.
type Rules struct {
	format string
	hot    *formats.HotTerm
	uv     *formats.UVField
}

// Parse checks every rule of s, naming the flag that carries it, and
// returns them parsed. Empty fields take the defaults.
func (s Spec) Parse() (Rules, error) {
	if s.Format == "" {
		s.Format = DefaultFormat
	}
	if s.HotTerm == "" {
		s.HotTerm = DefaultHotTerm
	}
	if s.UVField == "" {
		s.UVField = DefaultUVField
	}
	spec, err := WithJSONMap(s.Format, s.Map)
	if err != nil {
		return Rules{}, err
	}
	var opts []formats.Option
	if len(s.TimeLayouts) > 0 {
		opts = append(opts, formats.WithTimeLayouts(s.TimeLayouts...))
	}
	p, err := formats.NewWithOptions(spec, opts...)
	if err != nil {
		return Rules{}, fmt.Errorf("--format %q: %w", spec, err)
	}
	hot, err := formats.NewHotTerm(s.HotTerm)
	if err != nil {
		return Rules{}, fmt.Errorf("--hot-term: %w", err)
	}
	uv, err := formats.NewUVField(s.UVField)
	if err != nil {
		return Rules{}, fmt.Errorf("--uv-field: %w", err)
	}
	return Rules{format: p.Spec(), hot: hot, uv: uv}, nil
}

// MustParse is Parse for rules known to be valid (tests, defaults); it
// panics on an error.
func (s Spec) MustParse() Rules {
	r, err := s.Parse()
	if err != nil {
		panic(err)
	}
	return r
}

// Format is the parser spec of records without a format header, with the
// field map and time layouts folded in: the spec a producer writes into
// the header.
func (r Rules) Format() string {
	if r.format == "" {
		return DefaultFormat
	}
	return r.format
}

// HotTerm is the hot-term rule.
func (r Rules) HotTerm() *formats.HotTerm { return r.hot }

// UVField is the visitor identity rule.
func (r Rules) UVField() *formats.UVField { return r.uv }

// WithJSONMap folds a --map value into a json format spec: json plus
// ts=@timestamp is json:ts=@timestamp, the spec that travels in the format
// header, so speed and batch rebuild the same mapping from the header.
func WithJSONMap(format, mapping string) (string, error) {
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

// errNoRules is the error of a Decoder built from the zero Rules.
var errNoRules = errors.New("ingest: zero Rules (use Spec.Parse)")

// ID is the rules as one line of text: the default format spec, the hot
// term rule and the visitor rule. Two Rules with the same ID decode every
// record alike, so the lake records it beside each file (lake.File.Rules)
// and batch re-parses the files whose rows were decoded by other rules.
func (r Rules) ID() string {
	if r.hot == nil {
		r = Spec{}.MustParse()
	}
	return fmt.Sprintf("format=%s hot-term=%s uv-field=%s", r.Format(), r.hot, r.uv)
}
