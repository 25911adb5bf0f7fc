package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/loglambda/loglambda/serving/lakesql"
)

// sqlMain runs sql with the process's terminal and standard streams.
func sqlMain(ctx context.Context, args []string, stdout io.Writer) error {
	return runSQL(ctx, args, os.Stdin, stdout)
}

// sqlWriters are the outputs of loglambda sql by --format.
var sqlWriters = map[string]func(io.Writer, *lakesql.Result) error{
	"table": lakesql.WriteTable,
	"json":  lakesql.WriteJSON,
	"csv":   lakesql.WriteCSV,
}

const sqlUsage = `sql [flags] QUERY|-

Runs one read-only query (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW,
SUMMARIZE, EXPLAIN) over the lake's Parquet files, as the views logs and
"<topic>"; dt and hour are the partition columns. - or no QUERY reads the
query from stdin. Example:

  loglambda sql "SELECT hour, status, count(*) FROM logs GROUP BY ALL ORDER BY ALL"

flags:`

func runSQL(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("sql", sqlUsage)
	var lf lakeFlags
	lf.register(fs, defaultLakeDir, "")
	var topicFlag string
	topic := &topicFlag
	registerTopic(fs, topic)
	format := fs.String("format", "table", "output: table, json or csv")
	limit := fs.Int("limit", lakesql.DefaultRowLimit, "most rows printed; more are cut and reported")
	timeout := fs.Duration("timeout", lakesql.DefaultTimeout, "query timeout")
	memory := fs.String("memory-limit", lakesql.DefaultMemoryLimit, "DuckDB memory limit of the query")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	write, err := sqlOutput(fs, *format)
	if err != nil {
		return err
	}
	q, err := sqlQueryText(fs.Args(), stdin)
	if err != nil {
		return err
	}
	store, cache, err := lf.open(ctx, defaultLakeCache)
	if err != nil {
		return err
	}
	opts := []lakesql.Opt{lakesql.RowLimit(*limit), lakesql.Timeout(*timeout), lakesql.MemoryLimit(*memory)}
	if store != nil {
		opts = append(opts, lakesql.Remote(store, cache))
	}
	l, err := lakesql.New(lf.location, *topic, opts...)
	if err != nil {
		return err
	}
	res, err := l.Query(ctx, q)
	if err != nil {
		return err
	}
	return write(stdout, res)
}

// sqlOutput picks the writer of --format. LOGLAMBDA_FORMAT is also the
// parser format of speed, batch and up ("combined", "json"...): a value
// from there that is not an output format is ignored (and said so), not
// an error, so one environment serves every command.
func sqlOutput(fs *flag.FlagSet, format string) (func(io.Writer, *lakesql.Result) error, error) {
	if w, ok := sqlWriters[format]; ok {
		return w, nil
	}
	onCommandLine := false
	fs.Visit(func(f *flag.Flag) { onCommandLine = onCommandLine || f.Name == "format" })
	if !onCommandLine {
		slog.Info("sql: ignoring $"+envName("format")+" (a parser format, not an output format); printing a table", "value", format)
		return sqlWriters["table"], nil
	}
	return nil, fmt.Errorf("--format %q is not table, json or csv", format)
}

// sqlQueryText is the query: the arguments joined (so the shell's word
// splitting does not matter), or stdin for "-" or no argument.
func sqlQueryText(args []string, stdin io.Reader) (string, error) {
	if len(args) > 0 && !(len(args) == 1 && args[0] == "-") {
		return strings.Join(args, " "), nil
	}
	if f, ok := stdin.(*os.File); ok && len(args) == 0 {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return "", errors.New("no query: give it as an argument, or - to read it from stdin (loglambda sql --help)")
		}
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read query from stdin: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", errors.New("no query: stdin was empty")
	}
	return string(b), nil
}
