#!/usr/bin/env bash
# ci/scale.sh: a day of traffic as a user meets it (not part of the test
# run). Starts `loglambda up --demo --demo-history 24h` (or $HISTORY) on
# spare ports in a fresh data directory, then prints:
#   - catch-up time (speed has applied the backfill: no lag, no pending
#     documents), time to the first batch horizon, resident memory,
#     disk per store (kafka/, mongo/, lake/);
#   - the refresh's cost per tick (loglambda_serving_refresh_duration_seconds
#     over the last ticks, and whether batch was read whole or by hours);
#   - per endpoint over the last 24 h, as the dashboard asks (from/to on a
#     15-minute boundary): the first answer (curl), then requests/s, p50 and
#     p99 under 8 concurrent clients for 8 s (hey), beside /v1/status, the
#     floor: an answer that merges nothing.
# Needs hey (go install github.com/rakyll/hey@latest). Run on an idle
# machine: the figures share its cores with the stack itself.
# Usage: ci/scale.sh            HISTORY=168h ci/scale.sh     KEEP=1 keeps the stack up
set -euo pipefail
cd "$(dirname "$0")/.."
HISTORY="${HISTORY:-24h}"
DURATION="${DURATION:-8s}"
HEY="${HEY:-$(command -v hey || echo "$(go env GOPATH)/bin/hey")}"
[[ -x "$HEY" ]] || { echo "ci/scale.sh: hey not found: go install github.com/rakyll/hey@latest" >&2; exit 1; }
work=$(mktemp -d)
go build -o "$work/loglambda" .
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
HTTP=127.0.0.1:$(port) GRPC=127.0.0.1:$(port) KAFKA=127.0.0.1:$(port) MONGO=127.0.0.1:$(port)
base=http://$HTTP
start=$(date +%s.%N)
"$work/loglambda" up --demo --demo-history "$HISTORY" --data "$work/data" \
  --http "$HTTP" --grpc "$GRPC" --kafka-listen "$KAFKA" --mongo-listen "$MONGO" >"$work/up.log" 2>&1 &
pid=$!
cleanup() {
  if [[ -z "${KEEP:-}" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$work"
  else
    echo "stack kept: pid $pid, $base, data $work/data"
  fi
}
trap cleanup EXIT
since() { python3 -c "import sys,time; print(f'{time.time()-float(sys.argv[1]):.0f} s')" "$start"; }
status() { curl -sf "$base/v1/status" || true; }
# caught is set when speed has applied the backfill: partitions with no
# lag, no pending documents, and a watermark within 5 minutes of now.
caught() {
  status | python3 -c '
import json, sys, datetime
try: d = json.load(sys.stdin)
except Exception: sys.exit(1)
ps = d.get("partitions") or []
if not ps or any(p["lag"] > 0 or not p["watermark"] for p in ps): sys.exit(1)
if any(b["layer"] == "speed" and b.get("pending_docs", 0) > 0 for b in d.get("behind") or []): sys.exit(1)
now = datetime.datetime.now(datetime.timezone.utc)
wm = min(datetime.datetime.fromisoformat(p["watermark"].replace("Z", "+00:00")) for p in ps)
sys.exit(0 if (now - wm).total_seconds() < 300 else 1)'
}
until caught; do kill -0 "$pid" || { tail "$work/up.log"; exit 1; }; sleep 2; done
echo "history $HISTORY: caught up $(since)"
until status | grep -q '"batch_horizon":"'; do kill -0 "$pid" || exit 1; sleep 2; done
echo "first batch horizon $(since)"
sleep 5 # a few refreshes over the new horizon
echo "resident memory $(ps -o rss= -p "$pid" | awk '{printf "%.0f MiB", $1/1024}')"
for d in kafka mongo lake; do echo "disk $d $(du -sh "$work/data/$d" | cut -f1)"; done
metrics() { curl -sf "$base/metrics"; }
m0=$(metrics | awk '/^loglambda_serving_refresh_duration_seconds_(sum|count)/{print $2}' | paste -sd' ')
sleep 10
m1=$(metrics | awk '/^loglambda_serving_refresh_duration_seconds_(sum|count)/{print $2}' | paste -sd' ')
python3 -c "import sys; s0,c0,s1,c1=map(float,sys.argv[1:5]); print(f'refresh per tick over the last 10 s: {1000*(s1-s0)/max(c1-c0,1):.1f} ms ({c1-c0:.0f} ticks)')" $m0 $m1
metrics | grep -E '^loglambda_serving_batch_(reads_total|hours_read_total)' || true

now=$(date -u +%s); to=$(( (now / 900 + 1) * 900 )); from=$(( to - 86400 ))
R="from=$(date -u -d @$from +%Y-%m-%dT%H:%M:%SZ)&to=$(date -u -d @$to +%Y-%m-%dT%H:%M:%SZ)"
printf "%-34s %9s %9s %8s %8s\n" "GET (last 24 h)" "first ms" "req/s" "p50 ms" "p99 ms"
for q in "/v1/status" "/v1/hot?$R&k=10" "/v1/traffic?$R&step=1h" "/v1/traffic?$R&step=15m" "/v1/traffic?step=5m" \
  "/v1/levels?$R&step=1h" "/v1/patterns?$R&step=1h&k=10" "/v1/clusters?$R&k=5&step=1h"; do
  first=$(curl -s -o /dev/null -w '%{time_total}' "$base$q")
  out=$("$HEY" -z "$DURATION" -c 8 "$base$q")
  echo "$out" | grep -q '\[200\]' || { echo "$q: no 200 answers: $out" >&2; exit 1; }
  printf "%-34s %9.1f %9.0f %8.2f %8.2f\n" "$(echo "$q" | sed "s/$R&\{0,1\}//; s/?$//")" \
    "$(python3 -c "print(float('$first')*1000)")" \
    "$(echo "$out" | awk '/Requests\/sec/{print $2}')" \
    "$(echo "$out" | awk '/ 50%% in/{print $3*1000}')" \
    "$(echo "$out" | awk '/ 99%% in/{print $3*1000}')"
done
