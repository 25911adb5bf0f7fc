// Package serving answers queries over the lambda merge of the batch and
// speed views, over HTTP.
//
// How the pieces fit:
//
//   - refresh.go reads MongoDB in the background: speed documents changed
//     since the last refresh, batch documents when the batch horizon moves,
//     the speed checkpoints and the lake summary. It never runs per request.
//   - cache.go holds what refresh built as an immutable snapshot: per-pane
//     states merged across Kafka partitions, on each side of the horizon,
//     plus hour blocks (the merge of a whole hour's panes) so that a day-long
//     query merges tens of states, not thousands. A refresh publishes a new
//     snapshot with one atomic swap; requests read whichever snapshot they
//     loaded, without locks.
//   - merge.go is the lambda merge: panes before the horizon from batch,
//     panes at or after it from speed, never both.
//   - routes.go lists every HTTP route in one table; hot.go, traffic.go and
//     status.go answer the queries, params.go parses and checks their
//     parameters, metrics.go exposes Prometheus metrics.
//   - dashboard/ is the web page at "/": embedded static files that read
//     the same JSON API from the browser.
//
// Further views (levels, patterns, clusters), SQL over the lake and gRPC
// plug in as more routes in routes.go reading the same snapshot.
package serving
