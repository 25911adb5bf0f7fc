// Package serving answers queries over the lambda merge of the batch and
// speed views, over HTTP and gRPC.
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
//   - One file per view's answer, shared by HTTP and gRPC: hot.go,
//     traffic.go, levels.go, patterns.go, clusters.go and status.go are the
//     query layer: typed queries in, Go answers out ((*Server).Hot,
//     Traffic, Levels, Patterns, Clusters, Status), with params.go
//     checking the values and series.go cutting a range into buckets;
//     window.go is the step/from/to rule the dashboard asks for
//     (GET /v1/window) instead of aligning ranges itself.
//   - answers.go caches answers by normalized question and data version.
//   - Transport files only translate, one per view and transport:
//     http<view>.go turns query strings into the view's query and its
//     answer into JSON (httpquery.go: what they share), grpc<view>.go
//     turns the request message into the query and the answer into the
//     response (grpcproto.go: what they share). So answers and error
//     messages cannot drift apart between HTTP and gRPC.
//   - routes.go lists every HTTP route in one table; grpc.go serves
//     loglambda.v1.QueryService (schemas/proto) with the standard health
//     service and reflection.
//   - sql.go is POST /v1/sql: read-only SQL over the Parquet lake, run by
//     lakesql/ (its own DuckDB per query over the manifest's files; it
//     reads the lake from disk, not through batch). It does not use the
//     cache: the lake is the raw data, not the views.
//   - metrics.go exposes Prometheus metrics of both.
//   - dashboard/ is the web page at "/": embedded static files that read
//     the same JSON API from the browser.
//
// A further view plugs in as the others did: a query-layer method in
// <view>.go, read by a route in routes.go (http<view>.go) and an RPC in
// query.proto (grpc<view>.go).
package serving
