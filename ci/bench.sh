#!/usr/bin/env bash
# ci/bench.sh: the project's benchmarks, each printed beside its limit in the
# same run (raw franz-go consume beside the speed layer, x-of-raw and
# x-of-raw-cpu its share, aim >= 0.5; speed's state at 10 M distinct users a
# day, held-MiB, and a speed process's peak-RSS-MiB reading such a backlog,
# beside limit-MiB 512; the speed layer
# with the patterns view beside it without (x-of-patterns-off) and with and
# without the clusters view, a plain line split beside each parser and the
# pattern miner, raw produce beside ship, raw InsertMany of the embedded
# MongoDB beside the views' writer (x-of-raw, x-of-raw-cpu per view, aim
# >= 0.5; *-synced: the same into a store syncing each commit, as `stores`
# runs it, beside `up`'s), plaintext Kafka beside TLS + SCRAM;
# /v1/patterns and /v1/clusters over 1 h and 24 h beside /v1/traffic;
# the first (uncached) answer of every endpoint over 24 h, HTTP and gRPC,
# beside /v1/status (BenchmarkQueryFirst: ms and cpu-ms per answer);
# every endpoint's repeated (cached) answer over the real HTTP server under
# 8 concurrent clients, req/s and p99 beside a trivial handler on the same
# server (BenchmarkQueryRepeated, x-of-trivial, aim 1), and over gRPC
# beside the health check (x-of-health); a
# day's recompute from S3 beside the same day's from local disk,
# x-of-local beside its 2x limit: BenchmarkRecomputeDay, ~6 min, needs
# SeaweedFS from ci/seaweedfs.sh).
# Usage: ci/bench.sh [go test -bench regexp]   (default: all of them)
# Figures are events|lines|requests per second in the benchmark's metrics;
# run on an idle machine: the benchmarks share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-.}"
export LOGLAMBDA_LOGHUB="${LOGLAMBDA_LOGHUB:-$(cd .. && pwd)/shared/data/loghub}"
run() { # package, benchmark regexp, extra flags...
  local pkg=$1 re=$2; shift 2
  echo "== $pkg $re" >&2
  go test -run '^$' -bench "$re" -benchmem "$@" "$pkg" | grep -E '^(Benchmark|ok|FAIL)' || true
}
if [[ "$filter" == "." ]]; then
  run ./schemas/formats/ . -cpu 1
  run ./schemas/patterns/ Mine -cpu 1 -benchtime 300000x
  run ./speed/ Consume -benchtime 1x
  run ./speed/ Apply
  run ./speed/ 'Memory|ProcessRSS' -benchtime 1x
  run ./base/replace/ Writer -benchtime 1x
  run ./schemas/views/ ClustersAdd -cpu 1
  run ./internal/ship/ Ship -benchtime 3x
  run ./base/secure/ KafkaRoundTrip -benchtime 2x
  run ./serving/ Query -benchtime 2s
  run ./internal/gen/ Next -cpu 1
  run ./batch/... . -benchtime 1x
else
  run ./... "$filter"
fi
