package alerts

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/loglambda/loglambda/base/metric"
)

// engineMetrics are the engine's Prometheus metrics, registered on the
// serving layer's registry (Registerer), so /metrics shows them.
type engineMetrics struct {
	evaluations    *prometheus.CounterVec
	sent           *prometheus.CounterVec
	failed         *prometheus.CounterVec
	attemptsFailed *prometheus.CounterVec
	active         *prometheus.GaugeVec
	leaseHeld      prometheus.Gauge
	rules          prometheus.Gauge
	reloads        *prometheus.CounterVec
}

func newEngineMetrics(reg prometheus.Registerer) *engineMetrics {
	s := metric.New(reg)
	return &engineMetrics{
		evaluations: s.CounterVec("loglambda_alerts_evaluations_total", "Rule evaluations by rule and result (ok, error).", "rule", "result"),
		sent:        s.CounterVec("loglambda_alerts_notifications_sent_total", "Notifications delivered, by notifier.", "notifier"),
		failed: s.CounterVec("loglambda_alerts_notifications_failed_total",
			"Notifications that failed for good after their last retry, by notifier.", "notifier"),
		attemptsFailed: s.CounterVec("loglambda_alerts_notification_attempts_failed_total",
			"Delivery attempts that failed (retried or not), by notifier.", "notifier"),
		active:    s.GaugeVec("loglambda_alerts_active", "Alerts pending or firing, as seen by the lease holder (0 elsewhere).", "state"),
		leaseHeld: s.Gauge("loglambda_alerts_lease_held", "1 when this process holds the evaluator lease."),
		rules:     s.Gauge("loglambda_alerts_rules", "Rules loaded."),
		reloads: s.CounterVec("loglambda_alerts_rule_reloads_total",
			"Rule file reloads by result (ok, error: the file was refused).", "result"),
	}
}
