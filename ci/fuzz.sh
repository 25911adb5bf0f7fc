#!/usr/bin/env bash
# ci/fuzz.sh: bad input at volume, beside ci/bench.sh (too long for the
# test run). First each Go fuzz target of the parsers and the decoder for
# FUZZTIME (default 30s; their seed corpora run in every test run), then
# internal/cli's TestFuzzVolume: LINES generated bad lines (truncated JSON,
# binary junk, lines of another format, bad times, control characters,
# empty objects, 1 MiB lines cut to the line cap, some good lines) through
# `ship --format json` -> Kafka -> `speed` and `batch run`, all processes,
# against a `loglambda stores` process. It fails on a panic, unless Kafka
# holds one record per line, speed counts every record, the lake keeps
# every one (rows = distinct offsets = lines, raw bytes = the lines' bytes
# after the cut) and speed's parse errors equal the lake's.
# Usage: ci/fuzz.sh [lines] [fuzztime]   (default 10000000 30s)
# The run needs disk for the lines three times over (file, Kafka, lake):
# about 3 GB at 10 M.
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${1:-10000000}" fuzztime="${2:-30s}"
for target in schemas/formats:FuzzJSON schemas/formats:FuzzJSONFrozen schemas/formats:FuzzCombined schemas/formats:FuzzCommon \
  schemas/formats:FuzzRegex schemas/formats:FuzzGrok schemas/formats:FuzzTime schemas/formats:FuzzHeader \
  schemas/formats:FuzzMultiline schemas/ingest:FuzzDecode schemas/patterns:FuzzMiner; do
  pkg=${target%%:*} name=${target##*:}
  echo "== $name ($pkg, $fuzztime)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$pkg/" | tail -2
done
echo "== TestFuzzVolume ($lines lines)"
LOGLAMBDA_FUZZ_LINES="$lines" go test -count=1 -v -timeout 4h -run '^TestFuzzVolume$' ./internal/cli/ |
  grep -E '^(=== RUN|--- |ok|FAIL|PASS)|fuzz_volume_e2e_test.go'
