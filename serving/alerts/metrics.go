package alerts

import "github.com/prometheus/client_golang/prometheus"

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
	m := &engineMetrics{
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loglambda_alerts_evaluations_total",
			Help: "Rule evaluations by rule and result (ok, error).",
		}, []string{"rule", "result"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loglambda_alerts_notifications_sent_total",
			Help: "Notifications delivered, by notifier.",
		}, []string{"notifier"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loglambda_alerts_notifications_failed_total",
			Help: "Notifications that failed for good after their last retry, by notifier.",
		}, []string{"notifier"}),
		attemptsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loglambda_alerts_notification_attempts_failed_total",
			Help: "Delivery attempts that failed (retried or not), by notifier.",
		}, []string{"notifier"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "loglambda_alerts_active",
			Help: "Alerts pending or firing, as seen by the lease holder (0 elsewhere).",
		}, []string{"state"}),
		leaseHeld: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "loglambda_alerts_lease_held",
			Help: "1 when this process holds the evaluator lease.",
		}),
		rules: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "loglambda_alerts_rules",
			Help: "Rules loaded.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loglambda_alerts_rule_reloads_total",
			Help: "Rule file reloads by result (ok, error: the file was refused).",
		}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.evaluations, m.sent, m.failed, m.attemptsFailed, m.active, m.leaseHeld, m.rules, m.reloads)
	}
	return m
}
