// Package cli holds loglambda's commands, a file per command: each parses
// its own flags and starts layers. Main dispatches os.Args to them; the
// root package only calls Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// commands are loglambda's subcommands; each one's run is in the file
// named for it.
func commands() []command {
	return []command{
		{name: "patterns", summary: "group log lines by inferred template (offline, from files or stdin)", run: runPatterns},
		{name: "gen", summary: "generate realistic web and application log traffic into Kafka (or stdout)", run: runGen},
		{name: "speed", summary: "run the speed layer: Kafka -> pane views -> MongoDB, exactly once", run: runSpeed},
		{name: "serve", summary: "answer queries over HTTP and gRPC from the merged batch and speed views", run: runServe},
		{name: "ship", summary: "ship log files or stdin to Kafka (follows rotation with --follow)", run: shipMain},
		{name: "batch", summary: "run the batch layer: compact Kafka into the Parquet lake, recompute exact views (compact|recompute|run)", run: batchMain},
		{name: "up", summary: "run everything in one process on embedded Kafka and MongoDB (--demo: with generated traffic)", run: runUp},
		{name: "lake", summary: "list the Parquet lake's committed files from its manifest (files [--json] [--from --to])", run: runLake},
		{name: "stores", summary: "serve up's embedded Kafka and MongoDB only, for layers run as separate processes", run: runStores},
		{name: "sql", summary: "run a read-only SQL query over the Parquet lake with DuckDB (views logs and <topic>)", run: sqlMain},
	}
}

// Main runs the command named by args[0] with the rest of args as its
// flags and returns the process exit code: 0 on success or --help, 1 when
// the command failed, 2 for an unknown command.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) < 1 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		return 0
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "loglambda %s: %v\n", c.name, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "loglambda: unknown command %q\n\n", args[0])
	usage(stderr, cmds)
	return 2
}

// command is one loglambda subcommand. run parses its own flags from args
// with newFlags/parseFlags, so every command gets --help and environment
// fallbacks the same way.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout io.Writer) error
}

// envName is the environment variable read for a flag: LOGLAMBDA_ followed
// by the flag name in upper case with dashes as underscores
// (--mongo-uri -> LOGLAMBDA_MONGO_URI).
func envName(flagName string) string {
	return "LOGLAMBDA_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// newFlags returns a flag set for a subcommand whose usage text lists every
// flag with its default and its environment variable.
func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: loglambda %s\n\n", usage)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(out, "  --%s\n    \t%s%s [$%s]\n", f.Name, f.Usage, def, envName(f.Name))
		})
	}
	return fs
}

// parseFlags parses args, then fills every flag not given on the command
// line from its LOGLAMBDA_<FLAG> environment variable. The command line wins
// over the environment, which wins over the default.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("$%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// usage prints the list of subcommands.
func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "loglambda: real-time and batch log analytics on the lambda architecture.")
	fmt.Fprintln(w, "\nusage: loglambda <command> [flags] (loglambda <command> --help for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}
