package speed

import (
	"time"

	"github.com/loglambda/loglambda/base/metric"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the layer's Prometheus metrics. They are always updated and
// registered only when a Registerer is given, so the hot path has no
// branches for them.
type metrics struct {
	events, parseErrors, lateDropped prometheus.Counter
	flushes, flushErrors             prometheus.Counter
	flushDuration                    prometheus.Histogram
	fencedWrites                     prometheus.Counter
}

func newMetrics(topic string, reg prometheus.Registerer) *metrics {
	if reg != nil {
		reg = prometheus.WrapRegistererWithPrefix("loglambda_speed_",
			prometheus.WrapRegistererWith(prometheus.Labels{"topic": topic}, reg))
	}
	set := metric.New(reg)
	return &metrics{
		events:        set.Counter("events_total", "Records applied by the speed layer (parse errors and late ones included)."),
		parseErrors:   set.Counter("parse_errors_total", "Records that did not parse; they are kept in the lake by batch."),
		lateDropped:   set.Counter("late_dropped_total", "Events behind their partition's watermark, left to batch."),
		flushes:       set.Counter("flushes_total", "Successful flushes of panes and checkpoints to MongoDB."),
		flushErrors:   set.Counter("flush_errors_total", "Failed flushes; the panes stay dirty and are written again."),
		fencedWrites:  set.Counter("fenced_writes_total", "Documents not written because another member claimed their partition (a higher owner epoch) after this process lost it without knowing."),
		flushDuration: set.Histogram("flush_duration_seconds", "Time to write the dirty panes and checkpoints.", prometheus.ExponentialBuckets(0.001, 2, 14)),
	}
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

func (m *metrics) refused(n int) { m.fencedWrites.Add(float64(n)) }
