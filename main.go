// Command loglambda is a lambda-architecture log analytics toolkit: a speed
// layer over Kafka, a batch layer over a Parquet lake, and a serving layer
// that merges both. This package only wires: it sets up logging and signals
// and hands the command line to internal/cli; see ARCHITECTURE.md for how
// the layers fit.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/loglambda/loglambda/internal/cli"
)

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
