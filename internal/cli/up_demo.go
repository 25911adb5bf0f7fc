package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/loglambda/loglambda/base/atomicfile"
	"github.com/loglambda/loglambda/internal/gen"
)

// demoMarker is the demo's position, kept in DIR/demo.json so that a
// restart does not backfill the history again but continues where the
// previous run stopped.
type demoMarker struct {
	Seed int64 `json:"seed"`
	// Last is the in-order event time reached: every event before it was
	// delivered to Kafka.
	Last time.Time `json:"last"`
	// Events counts the events delivered over all runs.
	Events  int64     `json:"events"`
	Updated time.Time `json:"updated"`
}

const demoMarkerFile = "demo.json"

// demoBurstAfter is when, after its start, the demo makes an error burst.
const demoBurstAfter = 2 * time.Minute

// errNoMarker: the demo has not run in this data directory yet.
var errNoMarker = errors.New("no demo marker")

// markerEvery throttles marker writes during a live feed.
const markerEvery = 5 * time.Second

func readDemoMarker(path string) (demoMarker, error) {
	var m demoMarker
	found, err := atomicfile.ReadJSON(path, &m)
	if err != nil {
		return m, fmt.Errorf("demo marker: %w (delete it to backfill again)", err)
	}
	if !found {
		return m, errNoMarker
	}
	return m, nil
}

// write replaces the marker atomically: a crash leaves the old or the new
// one, never half of one.
func (m demoMarker) write(path string) error {
	if err := atomicfile.WriteJSON(path, m, 0o644); err != nil {
		return fmt.Errorf("write demo marker: %w", err)
	}
	return nil
}

// demoStart decides where the generator starts: on the first run the
// history before now; after that where the last run stopped, but never
// more than the history behind (a demo left off for a week does not
// backfill a week).
func demoStart(m demoMarker, haveMarker bool, now time.Time, history time.Duration) time.Time {
	from := now.Add(-history)
	if haveMarker && m.Last.After(from) {
		return m.Last
	}
	return from
}

// runDemo feeds generated traffic into the embedded Kafka, calling ready
// once the backfill is delivered.
func (s *stack) runDemo(ctx context.Context, ready func()) error {
	path := filepath.Join(s.cfg.data, demoMarkerFile)
	m, err := readDemoMarker(path)
	have := err == nil
	if err != nil && !errors.Is(err, errNoMarker) {
		return err
	}
	if !have {
		m.Seed = s.cfg.seed
	}
	now := time.Now()
	start := demoStart(m, have, now, s.cfg.demoHistory)
	// A burst two minutes into the live feed, so that the demo's alert
	// rules fire while someone is looking (the others come about every
	// 30 minutes).
	g, err := gen.New(gen.Seed(m.Seed), gen.Rate(s.cfg.rate), gen.Start(start),
		gen.OutOfOrder(s.cfg.outOfOrder), gen.Late(s.cfg.late), gen.BurstAt(now.Add(demoBurstAfter)))
	if err != nil {
		return fmt.Errorf("demo generator: %w", err)
	}
	sink, err := newKafkaSink(ctx, s.brokers, s.cfg.topic, s.kopts...)
	if err != nil {
		return err
	}
	s.log.Info("demo feed", "from", start.Format(time.RFC3339), "backfill", now.Sub(start).Round(time.Second),
		"rate", s.cfg.rate, "resumed", have)
	base := m.Events
	var lastWrite time.Time
	save := func(st genStats, force bool) {
		if !force && ctx.Err() == nil && time.Since(lastWrite) < markerEvery {
			return
		}
		lastWrite = time.Now()
		m.Last, m.Events, m.Updated = st.Last, base+st.Events, lastWrite.UTC()
		if err := m.write(path); err != nil {
			s.log.Warn("demo marker", "err", err)
		}
	}
	st, err := feed(ctx, g, sink, feedOpts{
		flushed: func(st genStats) { save(st, false) },
		caughtUp: func(st genStats) {
			save(st, true)
			s.log.Info("demo backfill done", "events", st.Events, "took", st.Elapsed.Round(time.Millisecond),
				"rate", fmt.Sprintf("%.0f/s", float64(st.Events)/st.Elapsed.Seconds()))
			ready()
		},
	})
	s.log.Info("demo feed stopped", "summary", st.String())
	return err
}
