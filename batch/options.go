package batch

import (
	"fmt"
	"io"
	"time"

	"github.com/loglambda/loglambda/base/objstore"
	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/schemas/views"
)

// Opt configures a Batch layer; see New. The options batch shares with
// speed (topic, ingest rules, pane, lateness, logger, clusters view,
// MongoDB writer, Kafka client options) are package settings'; the rest are
// batch's own.
type Opt = settings.Opt

func own(name string, f func(*cfg)) Opt { return settings.Own(name, f) }

// Defaults of batch's own settings, printed by `loglambda batch --help`
// through the command's flags (the shared ones are package settings').
const (
	// DefaultGrace is how long after an hour's end batch waits before it
	// calls the hour complete by the clock (besides compaction having read
	// past the hour on every partition). Five minutes covers shippers that
	// buffer a minute or two and a Kafka that lags a little; later data is
	// not lost, it marks the hour dirty and the next run recomputes it.
	DefaultGrace = 5 * time.Minute
	// DefaultMergeBelow is the size under which a finished hour's files
	// are merged: a file this small costs more in per-file overhead
	// (footer reads, one more path in every query) than it saves.
	DefaultMergeBelow = 64 << 20
	// DefaultSpeedMargin is how far before the horizon speed documents
	// are kept after a recompute (see retention.go for why).
	DefaultSpeedMargin = time.Hour
)

// cfg holds every setting of a Batch layer, with its defaults in one place
// (defaultCfg) and checked in one place (settings.Configure: the shared
// settings' Check, then Validate).
type cfg struct {
	// The settings batch shares with speed: topic, ingest rules, pane,
	// lateness, logger, clusters view, MongoDB writer, Kafka options.
	settings.Settings
	// clusters is the clusters view's spec, made by settings.Configure.
	clusters *views.ClusterSpec

	grace time.Duration // after an hour's end, before it is recomputed

	// Lake upkeep.
	mergeBelow int64

	// MongoDB upkeep: speed documents whose pane ends this long before the
	// horizon are deleted; negative keeps them.
	speedMargin time.Duration

	now      func() time.Time
	progress io.Writer

	// afterFiles, a test hook, runs after compaction wrote its files and
	// before it saves the manifest; an error from it ends the run there,
	// as a crash would.
	afterFiles func() error
	// afterReparse, a test hook, runs after a re-parse wrote the new
	// files of an hour and before it saves the manifest; an error from it
	// ends the run there, as a crash would.
	afterReparse func() error
	// idle is how long compaction waits for records it knows exist
	// (idleTimeout; tests shorten it).
	idle time.Duration

	// store and cache are a remote lake (LakeStore); nil: New's directory.
	store objstore.Store
	cache *objstore.Cache
}

func defaultCfg() cfg {
	return cfg{
		Settings:    settings.Defaults(),
		grace:       DefaultGrace,
		mergeBelow:  DefaultMergeBelow,
		speedMargin: DefaultSpeedMargin,
		now:         time.Now,
		idle:        idleTimeout,
	}
}

// Validate checks batch's own settings and names each with its value in
// the error; settings.Configure calls it after checking the shared ones.
func (c *cfg) Validate() error {
	switch {
	case c.grace < 0:
		return fmt.Errorf("grace %s is negative", c.grace)
	case c.mergeBelow < 0:
		return fmt.Errorf("merge-below %d bytes is negative (0 disables merging)", c.mergeBelow)
	case c.now == nil:
		return fmt.Errorf("now is nil")
	}
	return nil
}

// Grace is how long after an hour's end (by the clock) batch waits before
// recomputing it (default 5m, see DefaultGrace).
func Grace(d time.Duration) Opt { return own("Grace", func(c *cfg) { c.grace = d }) }

// MergeBelow is the size in bytes under which files of a finished hour are
// merged into one per partition (default 64 MiB; 0 disables merging).
func MergeBelow(bytes int64) Opt { return own("MergeBelow", func(c *cfg) { c.mergeBelow = bytes }) }

// SpeedMargin is how long before the batch horizon speed view documents
// are kept (default 1h): after a recompute, documents whose pane ended at
// or before horizon - margin are deleted, since serving answers those panes
// from batch and a refresh on embedded FerretDB scans every document. The
// margin covers speed still writing panes just before the horizon. A
// negative margin keeps every speed document. Checkpoints are never
// deleted.
func SpeedMargin(d time.Duration) Opt { return own("SpeedMargin", func(c *cfg) { c.speedMargin = d }) }

// LakeStore puts the lake in store (an S3 bucket prefix from
// objstore.Open) instead of New's directory, read through cache (DuckDB
// and the merge read local files). New's lakeDir then only names it.
func LakeStore(store objstore.Store, cache *objstore.Cache) Opt {
	return own("LakeStore", func(c *cfg) { c.store, c.cache = store, cache })
}

// Now is the clock (default time.Now): tests pin it to make hour
// completeness deterministic.
func Now(f func() time.Time) Opt { return own("Now", func(c *cfg) { c.now = f }) }

// Progress receives a progress bar of records read (default none). The
// command passes stderr when it is a terminal.
func Progress(w io.Writer) Opt { return own("Progress", func(c *cfg) { c.progress = w }) }

// withAfterFiles sets the hook run between a compaction's files and its
// manifest (tests: crash there).
func withAfterFiles(f func() error) Opt {
	return own("withAfterFiles", func(c *cfg) { c.afterFiles = f })
}

// withAfterReparse sets the hook run between a re-parse's files and its
// manifest (tests: crash there).
func withAfterReparse(f func() error) Opt {
	return own("withAfterReparse", func(c *cfg) { c.afterReparse = f })
}

// withIdle sets how long compaction waits for records it knows exist
// (tests: a stalled broker without waiting idleTimeout).
func withIdle(d time.Duration) Opt {
	return own("withIdle", func(c *cfg) { c.idle = d })
}
