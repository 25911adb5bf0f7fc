// Package alerts evaluates alerting rules over the serving layer's merged
// views and notifies by webhook (the Alertmanager webhook format), e-mail
// (SMTP), Alertmanager's v2 API and the log, once per transition, across
// restarts and across several serving processes; Alertmanager, as its API
// clients must, is re-sent a firing alert every resend interval and a
// resolved one for ResolvedResendFor after (Prometheus's rule). The documents it keeps
// are declared in schemas/collections (alerts.go).
//
// How the pieces fit:
//
//   - rules.go reads a YAML rule file and checks every rule, so a file
//     with a mistake is refused whole, with the rule's name, the field and
//     what is wrong, and the rules loaded before keep running.
//   - source.go is the seam onto the serving layer: Source is the query
//     layer HTTP and gRPC answer from (levels, traffic, a hot term's
//     count), so a rule sees what the API sees. Views that are not on every
//     server yet (patterns, clusters) are optional interfaces a Source may
//     also implement; a rule that needs one a Source lacks is evaluated to
//     an error shown in /v1/rules, not a silent nothing.
//   - measure.go turns a rule's view, measure, filters and group-by into
//     samples (labels and a value) over a window; condition.go decides
//     which samples hold: a fixed threshold, a seasonal baseline (median
//     and MAD of the same window on past days) or a new pattern.
//   - engine.go is the state machine (pending -> firing -> resolved, with
//     `for:`) run every evaluation interval by the lease holder only;
//     store.go keeps each alert and the rules' last evaluation in the
//     MongoDB collection `alerts`, and the lease (lease.go), so a restart
//     neither repeats nor forgets a notification.
//   - notify.go delivers each transition to the rule's notifiers with
//     retries and backoff; a delivery failing for good is logged and kept
//     on the alert, where /v1/alerts shows it. Each notification is
//     written with its stable id before it is sent (at least once, never
//     unrecorded): a resend after a crash carries the same id, and the
//     fingerprint is Alertmanager's, so receivers can deduplicate.
package alerts
