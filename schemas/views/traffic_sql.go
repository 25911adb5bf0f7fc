package views

// TrafficCountsSQL is the select list of the traffic view's exact counts
// over lake rows, for DuckDB: PV, and UV and IPs exactly as Traffic.Add
// counts them (empty visitors and IPs are not counted). The rows must have
// the columns uv_id (the visitor: event.VisitorSQL) and ip, parse errors
// already excluded. Batch recompute counts each pane with it and serving
// counts ranges before the horizon with it, so an exact answer is the
// same count either way.
const TrafficCountsSQL = `count(*) AS pv,
    count(DISTINCT uv_id) FILTER (WHERE uv_id <> '') AS uv,
    count(DISTINCT ip) FILTER (WHERE ip <> '') AS ips`
