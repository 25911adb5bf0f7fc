package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/formats"
	"github.com/loglambda/loglambda/schemas/ingest"
	"github.com/loglambda/loglambda/schemas/patterns"
	"github.com/loglambda/loglambda/schemas/views"
)

// lineFormat is the "line" format of the patterns command: the whole line
// is the message.
type lineFormat struct{}

func (lineFormat) Parse(line []byte, ev *event.Event) error { ev.Msg = string(line); return nil }
func (lineFormat) Spec() string                             { return "line" }

// autoFormat is the "auto" format of the patterns command, its default:
// an access log (combined, else common) is read as speed reads it, and is
// mined by the view's message rule ("METHOD path status", see
// views.PatternMessage); any other line is mined without the header
// patterns.StripHeader finds (timestamps, level, component...), so that
// no knowledge of the source is needed and the header still does not
// split the patterns.
type autoFormat struct{ combined, common *formats.AccessLog }

func newAutoFormat() *autoFormat {
	return &autoFormat{combined: formats.NewCombined(), common: formats.NewCommon()}
}

func (a *autoFormat) Parse(line []byte, ev *event.Event) error {
	if accessLine(line) {
		for _, p := range []*formats.AccessLog{a.combined, a.common} {
			*ev = event.Event{Raw: ev.Raw}
			if p.Parse(line, ev) == nil {
				return nil
			}
		}
		*ev = event.Event{Raw: ev.Raw}
	}
	ev.Msg = string(patterns.StripHeader(line))
	return nil
}
func (*autoFormat) Spec() string { return "auto" }

// accessLine is a cheap first look for an access log's line: a client
// address (a token with a digit or a colon) then " - " or an ident and a
// bracketed time; the access parser decides.
func accessLine(line []byte) bool {
	i := bytes.IndexByte(line, ' ')
	return i > 0 && bytes.Contains(line[i:min(len(line), i+64)], []byte(" ["))
}

// patternsRun is the state of one patterns invocation.
type patternsRun struct {
	parser  formats.Parser
	miner   *patterns.Miner
	lines   int64
	failed  int64 // lines the format could not parse (their whole line is the message)
	scratch event.Event
	buf     []byte
}

// message returns the text to mine for one line: the view's message rule
// (views.PatternMessage), which speed and batch mine by, so that this
// command and /v1/patterns find the same patterns in the same lines. A
// line the format cannot parse is mined whole (speed counts it as a parse
// error instead).
func (r *patternsRun) message(line []byte) []byte {
	r.scratch = event.Event{Raw: line}
	if err := r.parser.Parse(line, &r.scratch); err != nil {
		r.failed++
		return line
	}
	r.buf = views.PatternMessage(&r.scratch, r.buf)
	return r.buf
}

func runPatterns(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("patterns", "patterns [--format F] [--summary] [FILE...|-]")
	format := fs.String("format", "auto", `line format: "auto" (an access log's lines are mined as "METHOD path status", as live; other lines without the header found in each), "line" (the whole line is the message), "json", or "header:<Date> <Time> <Level> <Content>" (Loghub notation; only <Content> is mined)`)
	summary := fs.Bool("summary", false, "print the patterns with their counts and an example, most frequent first, instead of one pattern per line")
	maxPatterns := fs.Int("max-patterns", 10000, "patterns kept at most; the least frequent tenth is evicted when full")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *maxPatterns <= 0 {
		return fmt.Errorf("--max-patterns %d: must be positive", *maxPatterns)
	}
	opt := views.PatternMinerOptions
	opt.MaxPatterns = *maxPatterns
	r := &patternsRun{miner: patterns.NewMiner(opt)}
	switch *format {
	case "auto":
		r.parser = newAutoFormat()
	case "line":
		r.parser = lineFormat{}
	default:
		rules, err := ingest.Spec{Format: *format}.Parse()
		if err != nil {
			return fmt.Errorf("--format %q: %w; patterns also reads \"auto\" and \"line\"", *format, err)
		}
		r.parser = rules.NewDecoder().Parser()
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	// Standard input is read twice (mine, then assign), so it is spooled
	// to a temporary file: memory stays bounded whatever the input size.
	for i, in := range inputs {
		if in != "-" {
			continue
		}
		spool, err := os.CreateTemp("", "loglambda-patterns-*")
		if err != nil {
			return fmt.Errorf("spool standard input: %w", err)
		}
		defer os.Remove(spool.Name())
		_, err = io.Copy(spool, os.Stdin)
		if cerr := spool.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("spool standard input to %s: %w", spool.Name(), err)
		}
		inputs[i] = spool.Name()
	}

	// Pass 1: mine.
	for _, in := range inputs {
		err := eachLine(ctx, in, func(line []byte) error {
			r.lines++
			r.miner.Add(r.message(line))
			return nil
		})
		if err != nil {
			return err
		}
	}

	out := bufio.NewWriterSize(stdout, 1<<16)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if *summary {
		for _, p := range r.miner.Patterns() {
			rec := struct {
				Pattern  string `json:"pattern"`
				Count    uint64 `json:"count"`
				Template string `json:"template"`
				Example  string `json:"example"`
			}{p.ID.String(), p.Count, p.Template, p.Example}
			if err := enc.Encode(rec); err != nil {
				return fmt.Errorf("write summary: %w", err)
			}
		}
	} else {
		// Pass 2: every line gets the template its pattern has at the end.
		n := int64(0)
		for _, in := range inputs {
			err := eachLine(ctx, in, func(line []byte) error {
				n++
				p, _ := r.miner.Match(r.message(line))
				rec := struct {
					Line     int64  `json:"line"`
					Pattern  string `json:"pattern"`
					Template string `json:"template"`
				}{n, p.ID.String(), p.Template}
				if err := enc.Encode(rec); err != nil {
					return fmt.Errorf("write line %d: %w", n, err)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	unmatched := int64(0)
	if h, ok := r.parser.(*formats.Header); ok {
		unmatched = h.Unmatched()
	}
	fmt.Fprintf(os.Stderr, "loglambda patterns: %d lines, %d patterns, %d unmatched headers, %d unparsed lines, %d patterns evicted\n",
		r.lines, r.miner.Len(), unmatched, r.failed, r.miner.Evicted())
	return nil
}

// eachLine calls fn with every line of the file at path, without its line
// ending. Lines may be of any length.
func eachLine(ctx context.Context, path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var long []byte // a line longer than the buffer, being assembled
	inLong := false
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			inLong = true
			continue
		}
		line := chunk
		if inLong {
			long = append(long, chunk...)
			line = long
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if len(line) > 0 {
			line = bytes.TrimRight(line, "\r\n")
			if ferr := fn(line); ferr != nil {
				return ferr
			}
		}
		long, inLong = long[:0], false
		if err == io.EOF {
			return nil
		}
	}
}
