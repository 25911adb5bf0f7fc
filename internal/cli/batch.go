package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/loglambda/loglambda/batch"
)

// batchMain runs batch with the process's terminal and standard streams.
func batchMain(ctx context.Context, args []string, stdout io.Writer) error {
	var progress io.Writer
	if term.IsTerminal(int(os.Stderr.Fd())) {
		progress = os.Stderr
	}
	return runBatch(ctx, args, stdout, os.Stderr, progress)
}

// batchUsage lists the subcommands of `loglambda batch`.
const batchUsage = `batch compact|recompute|run [flags]

  compact     read the topic up to its current end into the lake
              (lake/<topic>/dt=YYYY-MM-DD/hour=HH/*.parquet + _manifest.json)
  recompute   recompute the batch views of complete hours with DuckDB
  run         compact, then recompute (what cron runs; a rerun is safe)

Prints a one-line JSON summary on stdout.`

// runBatch runs one batch subcommand. progress, when not nil, gets a
// progress bar (stderr on a terminal).
func runBatch(ctx context.Context, args []string, stdout, stderr io.Writer, progress io.Writer) (err error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stderr, "usage: loglambda %s\n", batchUsage)
		if len(args) == 0 {
			return errors.New("batch: want a subcommand: compact, recompute or run")
		}
		return flag.ErrHelp
	}
	sub := args[0]
	switch sub {
	case "compact", "recompute", "run":
	default:
		return fmt.Errorf("batch: unknown subcommand %q (want compact, recompute or run)", sub)
	}
	fs := newFlags("batch "+sub, "batch "+sub+" [flags]")
	fs.SetOutput(stderr)
	var common commonFlags
	common.register(fs)
	var lf lakeFlags
	lf.register(fs, defaultLakeDir, "")
	grace := fs.Duration("grace", batch.DefaultGrace, "an hour is recomputed once its end plus this is past (and compaction read past it on every partition)")
	mergeBelow := fs.Int64("merge-below", batch.DefaultMergeBelow, "files of a finished hour smaller than this (bytes) are merged, one per partition; 0: never")
	speedMargin := fs.Duration("speed-margin", batch.DefaultSpeedMargin, "after a recompute, delete speed view documents whose pane ended this long before the horizon (serving answers those from batch); negative: keep them")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := common.validate(); err != nil {
		return err
	}
	if *grace < 0 {
		return fmt.Errorf("--grace %s is negative", *grace)
	}
	rec := common.newLayerRecorder("batch", "")
	opts, db, closeDB, err := common.connect(ctx, rec)
	if err != nil {
		return err
	}
	defer closeDB()
	// How the run ends is recorded: stopped, or blocked and why until a
	// run succeeds.
	defer func() { rec.recordEnd(ctx, db, err) }()
	opts = append(opts, batch.Grace(*grace), batch.MergeBelow(*mergeBelow), batch.SpeedMargin(*speedMargin))
	if progress != nil {
		opts = append(opts, batch.Progress(progress))
	}
	store, cache, err := lf.open(ctx, defaultLakeCache)
	if err != nil {
		return err
	}
	if store != nil {
		opts = append(opts, batch.LakeStore(store, cache))
	}
	b, err := batch.New(db, common.brokerList(), lf.location, opts...)
	if err != nil {
		return err
	}

	start := time.Now()
	var summary any
	switch sub {
	case "compact":
		summary, err = b.Compact(ctx)
	case "recompute":
		summary, err = b.Recompute(ctx)
	case "run":
		summary, err = b.Run(ctx)
	}
	if err != nil {
		return err
	}
	line, err := json.Marshal(map[string]any{"command": "batch " + sub, "summary": summary, "seconds": time.Since(start).Seconds()})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(line))
	return nil
}
