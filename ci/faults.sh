#!/usr/bin/env bash
# ci/faults.sh: the long run of internal/cli's TestSpeedGroupFaults, beside
# ci/bench.sh (too long for the test run): three `loglambda speed`
# processes (the built binary) in one group against a `loglambda stores`
# process, `loglambda gen` producing 1 M events (300 k at once, then live
# at 5,000/s), a random member killed with SIGKILL every 2-5 s and restarted
# 0.3-1.5 s later until the producer is done and at least 50 kills were
# made, one member stopped with SIGSTOP past its session timeout in the
# middle. It fails unless the group's speed documents equal, pane by pane,
# those of one uninterrupted `speed` process over the same records, and no
# 15 s passed in which records waited and no checkpoint moved; it prints
# the kills, the longest stall of the group and of one partition, and the
# stale writes the stopped member refused.
# Usage: ci/faults.sh [events] [kills]   (default 1000000 50)
set -euo pipefail
cd "$(dirname "$0")/.."
export LOGLAMBDA_FAULTS_EVENTS="${1:-1000000}" LOGLAMBDA_FAULTS_KILLS="${2:-50}"
go test -count=1 -v -timeout 90m -run '^TestSpeedGroupFaults$' ./internal/cli/ |
  grep -E '^(=== RUN|--- |ok|FAIL|PASS)|faults_e2e_test.go'
