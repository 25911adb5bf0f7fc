package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/loglambda/loglambda/batch/lake"
	"github.com/loglambda/loglambda/internal/layer"
	"github.com/loglambda/loglambda/internal/replace"
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
}

// New returns the batch layer writing the lake under lakeDir (the topic's
// files go to lakeDir/<topic>) and the batch views to db. Compact needs
// brokers; Recompute needs db. Nothing is read or written until one of
// them runs.
func New(db *mongo.Database, brokers []string, lakeDir string, opts ...Opt) (*Batch, error) {
	c := defaultCfg()
	if err := layer.Apply(&c, opts); err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	ck, err := layer.Check(&c)
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	rules, grid := ck.Rules, ck.Grid
	c.clusters = ck.Clusters
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	if lakeDir == "" {
		return nil, errors.New("batch: lake directory is empty")
	}
	l, err := lake.Open(lakeDir, c.topic)
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	w := c.writer
	if w == nil {
		if w, err = replace.New(); err != nil {
			return nil, fmt.Errorf("batch: %w", err)
		}
	}
	return &Batch{cfg: c, db: db, writer: w, brokers: brokers, lake: l, grid: grid, rules: rules}, nil
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
	return b.run(ctx)
}

func (b *Batch) run(ctx context.Context) (RunSummary, error) {
	start := time.Now()
	var sum RunSummary
	unlock, err := b.lake.Lock()
	if err != nil {
		return sum, err
	}
	defer unlock()
	if sum.Compact, err = b.compact(ctx); err != nil {
		return sum, err
	}
	if sum.Recompute, err = b.recompute(ctx); err != nil {
		return sum, err
	}
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}
