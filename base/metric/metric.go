// Package metric declares Prometheus metrics in one line each, registered
// as they are made, so that a layer's metrics read as a table of names and
// helps, and serving and its alert engine declare theirs alike.
package metric

import "github.com/prometheus/client_golang/prometheus"

// Set makes metrics and registers them on its Registerer (none when nil:
// the metrics still count, nobody scrapes them). Registering panics on a
// name registered twice, as prometheus.MustRegister does: that is a
// programming error, not a runtime condition.
type Set struct{ reg prometheus.Registerer }

// New returns a Set registering on reg.
func New(reg prometheus.Registerer) Set { return Set{reg: reg} }

func register[C prometheus.Collector](s Set, c C) C {
	if s.reg != nil {
		s.reg.MustRegister(c)
	}
	return c
}

// Counter is a counter.
func (s Set) Counter(name, help string) prometheus.Counter {
	return register(s, prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help}))
}

// CounterVec is a counter per value of the labels.
func (s Set) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return register(s, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels))
}

// Gauge is a gauge.
func (s Set) Gauge(name, help string) prometheus.Gauge {
	return register(s, prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help}))
}

// GaugeVec is a gauge per value of the labels.
func (s Set) GaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return register(s, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels))
}

// Histogram is a histogram with the buckets.
func (s Set) Histogram(name, help string, buckets []float64) prometheus.Histogram {
	return register(s, prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}))
}

// HistogramVec is a histogram per value of the labels.
func (s Set) HistogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return register(s, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels))
}
