#!/usr/bin/env bash
# ci/cachegrind.sh: instructions and mispredicted branches per line of the
# pattern miner on the 16 Loghub samples, beside strings.Fields and the
# plain split of the same lines, counted by valgrind --tool=cachegrind,
# which a shared machine does not skew (wall-clock figures there swing 2x).
# Each benchmark (BenchmarkMine/all/{fields,split,mine}) runs at WARM lines
# and at WARM+LINES lines; the difference over LINES is the steady state:
# loading the samples and the miner's first pass (new patterns) are left out.
# Usage: ci/cachegrind.sh [LINES] [WARM]   (default 300000 32000; ~5 min)
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${1:-300000}"
warm="${2:-32000}"
export LOGLAMBDA_LOGHUB="${LOGLAMBDA_LOGHUB:-$(cd .. && pwd)/shared/data/loghub}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/patterns.test" ./schemas/patterns/
count() { # benchmark, lines: prints "instructions mispredicts"
  valgrind --tool=cachegrind --cache-sim=no --branch-sim=yes --cachegrind-out-file=/dev/null \
    "$dir/patterns.test" -test.run '^$' -test.bench "^BenchmarkMine/all/$1\$" -test.cpu 1 -test.benchtime "$2x" 2>&1 |
    awk '/I +refs:/ {gsub(",", "", $4); i=$4} /Mispredicts:/ {gsub(",", "", $3); m=$3} END {print i, m}'
}
for b in fields split mine; do
  read -r i0 m0 < <(count "$b" "$warm")
  read -r i1 m1 < <(count "$b" "$((warm + lines))")
  awk -v b="$b" -v i="$((i1 - i0))" -v m="$((m1 - m0))" -v n="$lines" \
    'BEGIN {printf "%-6s %6.0f instructions/line %5.1f mispredicted-branches/line\n", b, i/n, m/n}'
done
