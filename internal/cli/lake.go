package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/loglambda/loglambda/schemas/lakefiles"
)

// lakeUsage lists the subcommands of `loglambda lake`.
const lakeUsage = `lake files [flags]

  files   list the lake's committed files (those its _manifest.json names,
          after the manifest's version check), one per line: path, dt,
          hour, rows, bytes. --json prints JSON lines (what the notebooks
          read); --from/--to keep the event-time hours that overlap
          [from, to). A lake without a manifest is an error, never a glob.

flags:`

// runLake runs `loglambda lake SUBCOMMAND`.
func runLake(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fs := newFlags("lake", lakeUsage)
		fs.SetOutput(stdout)
		fs.Usage()
		if len(args) == 0 {
			return errors.New("want a subcommand: files")
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "files":
		return runLakeFiles(ctx, args[1:], stdout)
	}
	return fmt.Errorf("unknown subcommand %q: want files", args[0])
}

// lakeFile is one line of `lake files --json`: the manifest's entry with
// its absolute path and its Hive partition values (dt, hour), as DuckDB
// shows them for the file's rows.
type lakeFile struct {
	Path        string    `json:"path"`
	Dt          string    `json:"dt"`
	Hour        int       `json:"hour"`
	Start       time.Time `json:"start"`
	Rows        int64     `json:"rows"`
	ParseErrors int64     `json:"parse_errors"`
	Bytes       int64     `json:"bytes"`
	Partition   int32     `json:"partition"`
	FirstOffset int64     `json:"first_offset"`
	LastOffset  int64     `json:"last_offset"`
}

func runLakeFiles(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("lake files", lakeUsage)
	var topic string
	var lf lakeFlags
	lf.register(fs, defaultLakeDir, "")
	registerTopic(fs, &topic)
	asJSON := fs.Bool("json", false, "print JSON lines instead of a table")
	var from, to timeFlag
	fs.Var(&from, "from", "keep files whose event-time hour ends after this time (RFC 3339)")
	fs.Var(&to, "to", "keep files whose event-time hour starts before this time (RFC 3339)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("lake files takes no arguments, got %q", fs.Args())
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to.Time) {
		return fmt.Errorf("--from %s is not before --to %s", from, to)
	}
	var dir string
	var files []lakefiles.File
	var err error
	if lf.remote() {
		// A remote lake's paths are its URLs (s3://bucket/prefix/topic/...).
		store, _, oerr := lf.open(ctx, defaultLakeCache)
		if oerr != nil {
			return oerr
		}
		var found bool
		files, found, err = lakefiles.ListStore(ctx, store, topic)
		if err == nil && !found {
			err = fmt.Errorf("%w for topic %q under %s", lakefiles.ErrNoManifest, topic, store)
		}
		dir = store.String() + "/" + topic
	} else {
		dir, files, err = lakefiles.List(lf.location, topic)
	}
	if err != nil {
		return err
	}
	out := make([]lakeFile, 0, len(files))
	for _, f := range files {
		h := f.Hour.UTC().Truncate(time.Hour)
		if !from.IsZero() && !h.Add(time.Hour).After(from.Time) || !to.IsZero() && !h.Before(to.Time) {
			continue
		}
		out = append(out, lakeFile{
			Path: lakePath(lf.remote(), dir, f.Path), Dt: h.Format("2006-01-02"), Hour: h.Hour(), Start: h,
			Rows: f.Rows, ParseErrors: f.ParseErrors, Bytes: f.Bytes,
			Partition: f.Partition, FirstOffset: f.FirstOffset, LastOffset: f.LastOffset,
		})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, f := range out {
			if err := enc.Encode(f); err != nil {
				return fmt.Errorf("lake files: write: %w", err)
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dt\thour\trows\tbytes\tpath\t")
	for _, f := range out {
		fmt.Fprintf(tw, "%s\t%02d\t%d\t%d\t%s\t\n", f.Dt, f.Hour, f.Rows, f.Bytes, f.Path)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("lake files: write: %w", err)
	}
	return nil
}

// timeFlag is an RFC 3339 time flag; zero when not given.
type timeFlag struct{ time.Time }

func (t *timeFlag) String() string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (t *timeFlag) Set(s string) error {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("want an RFC 3339 time such as 2026-11-20T10:00:00Z: %w", err)
	}
	t.Time = v.UTC()
	return nil
}

// lakePath is where a listed file is: a file path, or a URL in S3.
func lakePath(remote bool, dir, rel string) string {
	if remote {
		return dir + "/" + rel
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}
