package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/schemas/ingest"
	"github.com/loglambda/loglambda/schemas/views"
)

// Batch is the batch layer over one topic: its lake and its batch views.
type Batch struct {
	cfg     cfg
	db      *mongo.Database
	writer  *replace.Writer
	brokers []string
	lake    *lake.Lake
	grid    views.Grid
	rules   ingest.Rules
	bl      backlogState
	// ids numbers the exact sets' strings (exactsets.go); read from the
	// lake at each recompute run.
	ids idDict
}

// New returns the batch layer writing the lake under lakeDir (the topic's
// files go to lakeDir/<topic>) and the batch views to db. Compact needs
// brokers; Recompute needs db. Nothing is read or written until one of
// them runs.
func New(db *mongo.Database, brokers []string, lakeDir string, opts ...Opt) (*Batch, error) {
	c := defaultCfg()
	ck, err := settings.Configure(&c, opts)
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	c.clusters = ck.Clusters
	if lakeDir == "" {
		return nil, errors.New("batch: lake directory is empty")
	}
	var l *lake.Lake
	if c.store != nil {
		l, err = lake.OpenStore(c.store, c.cache, c.Topic)
	} else {
		l, err = lake.Open(lakeDir, c.Topic)
	}
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	return &Batch{cfg: c, db: db, writer: ck.Writer, brokers: brokers, lake: l, grid: ck.Grid, rules: ck.Rules}, nil
}

// RunSummary reports a Run: its compaction and its recompute.
type RunSummary struct {
	Compact   CompactSummary   `json:"compact"`
	Recompute RecomputeSummary `json:"recompute"`
	Seconds   float64          `json:"seconds"`
}

// Run compacts, then recomputes, holding the lake's lock throughout so a
// second run started meanwhile (cron overlapping a slow run) fails at once
// instead of interleaving. Running it again without new records changes
// nothing.
func (b *Batch) Run(ctx context.Context) (sum RunSummary, err error) {
	defer func() { b.recordRun(err) }()
	return locked(ctx, b.lake, b.run)
}

// locked runs f holding the lake's lock: Run, Compact and Recompute each
// hold it throughout, so that they never interleave.
func locked[S any](ctx context.Context, l *lake.Lake, f func(context.Context) (S, error)) (S, error) {
	unlock, err := l.Lock(ctx)
	if err != nil {
		var zero S
		return zero, err
	}
	defer unlock()
	return f(ctx)
}

func (b *Batch) run(ctx context.Context) (RunSummary, error) {
	start := time.Now()
	var sum RunSummary
	var err error
	if sum.Compact, err = b.compact(ctx); err != nil {
		return sum, err
	}
	if sum.Recompute, err = b.recompute(ctx); err != nil {
		return sum, err
	}
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}
