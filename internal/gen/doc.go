// Package gen generates realistic web and application traffic as JSON lines
// in loglambda's JSON format. It feeds `loglambda gen`, `loglambda up --demo`
// and the tests of every layer, so it is deterministic: the same options
// (above all the seed) give byte-identical lines, and it never reads the wall
// clock; event times are spaced by 1/rate from Start.
//
// What the traffic looks like, so views have something to show:
//   - search page views whose terms follow a Zipf law over a product
//     vocabulary (`/search?q=red+shoes&page=2`, sometimes `?Input=`), so the
//     hot view has a clear head and a long tail;
//   - Zipf-distributed users, a share of them anonymous (user "-", so unique
//     visitors fall back to the IP), each with a mostly stable IP;
//   - other page views (home, products, cart, static assets) on web-1..web-4
//     with realistic status shares and log-normal latencies;
//   - application logs from db-1..db-3 at INFO/WARN/ERROR, with bursts of
//     errors (a few minutes of "connection refused to 10.0.3.7:5432" from one
//     instance, and 5xx on the web hosts meanwhile);
//   - a configurable share of out-of-order events (a few seconds to a minute
//     before the previous one: within the default lateness) and of late
//     events (5 to 30 minutes in the past: beyond it).
package gen
