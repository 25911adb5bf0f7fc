package serving

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/loglambda/loglambda/base/metric"
)

// metrics are the server's Prometheus metrics, on a registry of its own so
// that two servers in one process (tests, `loglambda up`) do not collide.
type metrics struct {
	reg             *prometheus.Registry
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	grpcRequests    *prometheus.CounterVec
	grpcDuration    *prometheus.HistogramVec
	refreshDuration prometheus.Histogram
	refreshErrors   prometheus.Counter
	badDocs         prometheus.Counter
	batchReads      *prometheus.CounterVec
	batchHoursRead  prometheus.Counter
	answers         *prometheus.CounterVec
	// answerHits and answerMisses are answers' two series, looked up
	// once: a cached answer costs a lookup, and the label's was one.
	answerHits, answerMisses prometheus.Counter
	cachePanes               *prometheus.GaugeVec
	horizon                  prometheus.Gauge
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := metric.New(reg)
	latency := prometheus.ExponentialBuckets(0.0001, 4, 10)
	m := &metrics{
		reg:             reg,
		requests:        s.CounterVec("loglambda_serving_requests_total", "HTTP requests by route and status code.", "route", "code"),
		requestDuration: s.HistogramVec("loglambda_serving_request_duration_seconds", "HTTP request latency by route.", latency, "route"),
		grpcRequests:    s.CounterVec("loglambda_serving_grpc_requests_total", "Unary gRPC calls by method and status code.", "method", "code"),
		grpcDuration:    s.HistogramVec("loglambda_serving_grpc_request_duration_seconds", "Unary gRPC call latency by method.", latency, "method"),
		refreshDuration: s.Histogram("loglambda_serving_refresh_duration_seconds", "Duration of a cache refresh from MongoDB.",
			prometheus.ExponentialBuckets(0.001, 4, 10)),
		refreshErrors: s.Counter("loglambda_serving_refresh_errors_total", "Cache refreshes that failed (the previous cache stays in use)."),
		badDocs:       s.Counter("loglambda_serving_bad_documents_total", "View documents skipped because they could not be decoded."),
		batchReads: s.CounterVec("loglambda_serving_batch_reads_total",
			"Reads of the batch views when the horizon document changed: whole (every document, at start or when too much changed) or changed (only the recomputed hours, by _id).", "kind"),
		batchHoursRead: s.Counter("loglambda_serving_batch_hours_read_total", "Recomputed hours read by _id when the horizon document changed."),
		answers:        s.CounterVec("loglambda_serving_answers_total", "Answers by how they were found: hit (cached, valid) or miss (computed).", "result"),
		cachePanes:     s.GaugeVec("loglambda_serving_cache_panes", "Pane states held in the cache, by layer (batch, speed).", "layer"),
		horizon:        s.Gauge("loglambda_serving_batch_horizon_seconds", "Batch horizon as a Unix time; 0 when batch has never run."),
	}
	m.answerHits = m.answers.WithLabelValues("hit")
	m.answerMisses = m.answers.WithLabelValues("miss")
	return m
}

// setCache records the sizes of a freshly published snapshot.
func (m *metrics) setCache(s *snapshot) {
	m.cachePanes.WithLabelValues("batch").Set(float64(len(s.batch.panes)))
	m.cachePanes.WithLabelValues("speed").Set(float64(len(s.speed.panes)))
	if s.horizon.IsZero() {
		m.horizon.Set(0)
	} else {
		m.horizon.Set(float64(s.horizon.Unix()))
	}
}

// grpcInterceptor records each unary gRPC call's method, code and
// duration. The method label is one of the registered methods, never
// client input: gRPC rejects unknown methods before interceptors run.
func (m *metrics) grpcInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	m.grpcRequests.WithLabelValues(info.FullMethod, status.Code(err).String()).Inc()
	m.grpcDuration.WithLabelValues(info.FullMethod).Observe(time.Since(start).Seconds())
	return resp, err
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
