// Command loglambda is a lambda-architecture log analytics toolkit: a speed
// layer over Kafka, a batch layer over a Parquet lake, and a serving layer
// that merges both. This package only parses flags and starts layers; see
// DESIGN.md for how they fit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func commands() []command {
	return []command{
		// Each subcommand registers itself here; see cmd_*.go.
		patternsCommand(),
		genCommand(),
		speedCommand(),
		serveCommand(),
		shipCommand(),
		batchCommand(),
		upCommand(),
		sqlCommand(),
	}
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	cmds := commands()
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage(os.Stdout, cmds)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range cmds {
		if c.name != os.Args[1] {
			continue
		}
		err := c.run(ctx, os.Args[2:], os.Stdout)
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "loglambda %s: %v\n", c.name, err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintf(os.Stderr, "loglambda: unknown command %q\n\n", os.Args[1])
	usage(os.Stderr, cmds)
	os.Exit(2)
}
