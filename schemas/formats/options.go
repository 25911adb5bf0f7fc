package formats

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Option configures a parser built by NewWithOptions.
type Option func(*options) error

// options is every setting an Option can make; zero values are defaults.
type options struct {
	// timeLayouts are custom Go time layouts (--time-layout), tried before
	// the built-in ones.
	timeLayouts []string
}

// WithTimeLayouts makes the parser try these Go time layouts (reference
// time 2006-01-02 15:04:05) before the built-in ones; see TimeParser.
func WithTimeLayouts(layouts ...string) Option {
	return func(o *options) error {
		o.timeLayouts = append(o.timeLayouts, layouts...)
		return nil
	}
}

// timeConfigurable is implemented by parsers that read times with a
// TimeParser, so NewWithOptions can give them one. A parser that reads no
// free-form time (or has not been taught to) does not implement it, and
// asking it for time layouts is an error rather than silently ignored.
type timeConfigurable interface {
	setTimeParser(tp *TimeParser)
}

// NewWithOptions returns the parser for spec configured by opts. With no
// options it is New(spec).
//
// The options are written into the returned parser's Spec, as
//
//	opts:time-layout=<layout, query-escaped>[&time-layout=...]:<spec>
//
// because Spec travels with every record as a Kafka header and the speed and
// batch layers rebuild the parser from it with New: an option given only to
// the shipper would be lost on the way, and batch would read times
// differently from the shipper's intent. The query escaping keeps ':' out
// of the option block, so the inner spec (a regex, say) can hold anything.
func NewWithOptions(spec string, opts ...Option) (Parser, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("format %q: %w", spec, err)
		}
	}
	if len(o.timeLayouts) == 0 {
		return New(spec)
	}
	tp, err := NewTimeParser(o.timeLayouts...)
	if err != nil {
		return nil, fmt.Errorf("format %q: %w", spec, err)
	}
	p, err := New(spec)
	if err != nil {
		return nil, err
	}
	c, ok := p.(timeConfigurable)
	if !ok {
		return nil, fmt.Errorf("format %q does not take time layouts", spec)
	}
	c.setTimeParser(tp)
	q := url.Values{"time-layout": o.timeLayouts}.Encode()
	return &withOptions{Parser: p, spec: "opts:" + q + ":" + spec}, nil
}

// newOptsSpec builds the parser of an "opts:<query>:<spec>" spec, the form
// NewWithOptions writes into Spec.
func newOptsSpec(arg string) (Parser, error) {
	query, inner, ok := strings.Cut(arg, ":")
	if !ok || inner == "" {
		return nil, errors.New("format opts: want opts:<options>:<format spec>")
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("format opts: options %q: %w", query, err)
	}
	var opts []Option
	for k, v := range vals {
		switch k {
		case "time-layout":
			opts = append(opts, WithTimeLayouts(v...))
		default:
			return nil, fmt.Errorf("format opts: unknown option %q (known: time-layout)", k)
		}
	}
	return NewWithOptions(inner, opts...)
}

// withOptions is a parser built with options: it parses as the inner parser
// and reports the spec that rebuilds it with the same options.
type withOptions struct {
	Parser
	spec string
}

// Spec implements Parser.
func (w *withOptions) Spec() string { return w.spec }

// setTimeParser passes a time parser to the inner parser, so options given
// to an already optioned spec override the inner ones.
func (w *withOptions) setTimeParser(tp *TimeParser) {
	if c, ok := w.Parser.(timeConfigurable); ok {
		c.setTimeParser(tp)
	}
}

// parser returns a constructor's result as a Parser, and a nil Parser (not
// a nil pointer in a non-nil interface) on error.
func parser[P Parser](p P, err error) (Parser, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}
