package speed

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the layer's Prometheus metrics. They are always updated and
// registered only when a Registerer is given, so the hot path has no
// branches for them.
type metrics struct {
	events, parseErrors, lateDropped prometheus.Counter
	flushes, flushErrors             prometheus.Counter
	flushDuration                    prometheus.Histogram
}

func newMetrics(topic string, reg prometheus.Registerer) (*metrics, error) {
	labels := prometheus.Labels{"topic": topic}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "loglambda", Subsystem: "speed", Name: name, Help: help, ConstLabels: labels,
		})
	}
	m := &metrics{
		events:      counter("events_total", "Records applied by the speed layer (parse errors and late ones included)."),
		parseErrors: counter("parse_errors_total", "Records that did not parse; they are kept in the lake by batch."),
		lateDropped: counter("late_dropped_total", "Events behind their partition's watermark, left to batch."),
		flushes:     counter("flushes_total", "Successful flushes of panes and checkpoints to MongoDB."),
		flushErrors: counter("flush_errors_total", "Failed flushes; the panes stay dirty and are written again."),
		flushDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "loglambda", Subsystem: "speed", Name: "flush_duration_seconds",
			Help: "Time to write the dirty panes and checkpoints.", ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.events, m.parseErrors, m.lateDropped, m.flushes, m.flushErrors, m.flushDuration} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register speed metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) add(t tally) {
	m.events.Add(float64(t.events))
	m.parseErrors.Add(float64(t.parseErrors))
	m.lateDropped.Add(float64(t.lateDropped))
}

func (m *metrics) flushed(d time.Duration, err error) {
	m.flushDuration.Observe(d.Seconds())
	if err != nil {
		m.flushErrors.Inc()
		return
	}
	m.flushes.Inc()
}
