#!/usr/bin/env bash
# ci/scale.sh: a day of traffic as a user meets it (not part of the test
# run). Starts `loglambda up --demo --demo-history 24h` (or $HISTORY) in a
# fresh data directory, then prints:
#   - catch-up time (speed has applied the backfill: no lag, no pending
#     documents), time to the first batch horizon and to a horizon within
#     2 h of now (batch has recomputed the backfill), resident memory,
#     disk per store (kafka/, mongo/, lake/);
#   - the refresh's cost per tick, from /v1/status: documents read and ms,
#     mean and max over the last minute of ticks, once caught up (the
#     catch-up's ticks, at most 64 panes each) and at the horizon (the
#     steady state); it must not grow with the history: compare HISTORY=24h
#     with 168h;
#   - per endpoint over the last 24 h (or the history, if shorter), asked
#     as the dashboard asks (from/to on a 15-minute boundary): the first
#     answer (curl), then requests/s, p50 and p99 under $CLIENTS (8)
#     concurrent clients for $DURATION (hey), beside /healthz, the limit:
#     a trivial handler of the same server in the same process under the
#     same load (what net/http, the machine and the rest of the process
#     leave), and /v1/status, an answer that merges nothing; then the same
#     over gRPC, beside Health (grpc.health.v1 Check, the gRPC limit),
#     the answers received and not decoded (grpcload -raw), as hey does not
#     parse HTTP bodies: the figures are the server's
#     (internal/grpcload), on a range 15 minutes later so that its first
#     answer is not the HTTP one's cached (and, ending after the horizon, not
#     a range counted exactly from the lake, whose first answer runs DuckDB);
#   - the dashboard over 24 h in headless Chromium: every API request's
#     duration (Resource Timing, internal/pagetimings);
#   - resident memory (VmRSS) sampled every 5 s from /proc: the peak of
#     each phase (backfill and catch-up, until the first horizon, until a
#     horizon within 2 h, the answers), and the Go runtime's share of it
#     at the horizon (runtime.MemStats Sys, from /debug/pprof/heap: the
#     rest is DuckDB's and other memory outside Go); the stack is killed
#     when it passes MAX_RSS_MIB (8192), as on a shared machine;
#   - with PROFILE=1, a 10 s CPU profile of the process while the first
#     answers and the load of every endpoint run ($WORK/cpu.pprof: go tool
#     pprof -top).
# Run on an idle machine: the figures share its cores with the stack
# itself. Needs hey (go install github.com/rakyll/hey@latest) and, for the
# dashboard line, Debian's chromium (skipped without it).
#
# Settings (environment):
#   HISTORY=24h     demo history to backfill (168h: a week; see README for memory)
#   PORT=32100      first of 5 consecutive ports: HTTP, gRPC, Kafka, MongoDB,
#                   pprof (default: free ports picked at random)
#   WORK=/tmp/x     where the binary, data and logs go (default: mktemp -d;
#                   removed at the end unless KEEP=1)
#   DURATION=8s CLIENTS=8   the load of each endpoint
#   KEEP=1          leave the stack running at the end (prints its pid)
#   ATTACH=PID      measure the stack of pid PID (kept by an earlier run with
#                   the same PORT and WORK) instead of starting one
#   UP_FLAGS="..."  more flags for `loglambda up` (e.g. --batch-every 1m)
#   MAX_RSS_MIB=8192  kill the stack when its resident memory passes this
set -euo pipefail
cd "${REPO:-$(dirname "$0")/..}" # REPO: when run from a copy (bash <(cat ci/scale.sh))
HISTORY="${HISTORY:-24h}"
DURATION="${DURATION:-8s}"
CLIENTS="${CLIENTS:-8}"
HEY="${HEY:-$(command -v hey || echo "$(go env GOPATH)/bin/hey")}"
[[ -x "$HEY" ]] || { echo "ci/scale.sh: hey not found: go install github.com/rakyll/hey@latest" >&2; exit 1; }
work="${WORK:-$(mktemp -d)}"
mkdir -p "$work"
[[ -n "${ATTACH:-}" ]] || go build -o "$work/loglambda" .
go build -o "$work/grpcload" ./internal/grpcload
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
if [[ -n "${PORT:-}" ]]; then
  HTTP=127.0.0.1:$PORT GRPC=127.0.0.1:$((PORT + 1)) KAFKA=127.0.0.1:$((PORT + 2)) MONGO=127.0.0.1:$((PORT + 3)) PPROF=127.0.0.1:$((PORT + 4))
else
  HTTP=127.0.0.1:$(port) GRPC=127.0.0.1:$(port) KAFKA=127.0.0.1:$(port) MONGO=127.0.0.1:$(port) PPROF=127.0.0.1:$(port)
fi
base=http://$HTTP
start=$(date +%s.%N)
if [[ -n "${ATTACH:-}" ]]; then
  pid=$ATTACH # a stack this script started before with KEEP=1 (same PORT and WORK)
else
  # shellcheck disable=SC2086 # UP_FLAGS is a list of flags
  "$work/loglambda" up --demo --demo-history "$HISTORY" --data "$work/data" \
    --http "$HTTP" --grpc "$GRPC" --kafka-listen "$KAFKA" --mongo-listen "$MONGO" --pprof "$PPROF" ${UP_FLAGS:-} >"$work/up.log" 2>&1 &
  pid=$!
fi
cleanup() {
  [[ -z "${sampler:-}" ]] || kill "$sampler" 2>/dev/null || true
  if [[ -z "${KEEP:-}${ATTACH:-}" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [[ -n "${WORK:-}" ]] || rm -rf "$work"
  else
    echo "stack kept: pid $pid, $base, grpc $GRPC, pprof $PPROF, data $work/data"
  fi
}
trap cleanup EXIT
echo "stack: pid $pid, http $base, grpc $GRPC, pprof $PPROF, log $work/up.log"
# RSS every 5 s into $work/rss.log ("unix-seconds KiB"); past MAX_RSS_MIB
# the stack is killed (the wait loops below then stop on alive).
(
  while kill -0 "$pid" 2>/dev/null; do
    kib=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [[ -n "$kib" ]] || break
    echo "$(date +%s) $kib" >>"$work/rss.log"
    if (( kib > ${MAX_RSS_MIB:-8192} * 1024 )); then
      echo "ci/scale.sh: resident memory $(( kib / 1024 )) MiB passed MAX_RSS_MIB ${MAX_RSS_MIB:-8192}: stack killed" >&2
      kill "$pid"
      break
    fi
    sleep 5
  done
) &
sampler=$!
mark=$(date +%s)
# peak PHASE: the largest RSS sampled since the last peak line.
peak() {
  local now
  now=$(date +%s)
  awk -v a="$mark" -v phase="$1" '$1 >= a && $2 > m {m = $2} END {printf "peak resident memory %s: %.0f MiB\n", phase, m/1024}' "$work/rss.log" 2>/dev/null || true
  mark=$now
}
since() { python3 -c "import sys,time; print(f'{time.time()-float(sys.argv[1]):.0f} s')" "$start"; }
status() { curl -sf "$base/v1/status" || true; }
alive() { kill -0 "$pid" 2>/dev/null || { echo "loglambda up exited:" >&2; tail -20 "$work/up.log" >&2; exit 1; }; }
# caught is set when speed has applied the backfill: partitions with no
# lag beyond the live feed's, nothing pending for long, and a watermark
# within 5 minutes of now.
caught() {
  status | python3 -c '
import json, sys, datetime
try: d = json.load(sys.stdin)
except Exception: sys.exit(1)
ps = d.get("partitions") or []
if not ps or any(p["lag"] is None or p["lag"] > 1000 or not p["watermark"] for p in ps): sys.exit(1)
now = datetime.datetime.now(datetime.timezone.utc)
def old(b):
    t = b.get("oldest_pending")
    return t and (now - datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))).total_seconds() > 180
# Under the live feed speed always has a pane or two pending: behind is
# pending documents older than 3 minutes.
if any(b["layer"] == "speed" and (b.get("last_error") or old(b)) for b in d.get("behind") or []): sys.exit(1)
wm = min(datetime.datetime.fromisoformat(p["watermark"].replace("Z", "+00:00")) for p in ps)
sys.exit(0 if (now - wm).total_seconds() < 300 else 1)'
}
# horizon_within H: the batch horizon is set and at most H seconds old.
horizon_within() {
  status | python3 -c '
import json, sys, datetime
try: d = json.load(sys.stdin)
except Exception: sys.exit(1)
h = d.get("batch_horizon")
if not h: sys.exit(1)
now = datetime.datetime.now(datetime.timezone.utc)
age = (now - datetime.datetime.fromisoformat(h.replace("Z", "+00:00"))).total_seconds()
sys.exit(0 if age <= float(sys.argv[1]) else 1)' "$1"
}
# refresh LABEL: the refresh's cost per tick from /v1/status (the last 60
# ticks, documents read and ms) and the pane writes it left pending.
refresh() {
  status | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = d["refresh"]
print(("refresh per tick {label}, over the last {window} ticks: {mean_docs:.1f} documents read, {mean_ms:.1f} ms mean ({mean_publish_ms:.1f} ms of it publishing), {max_ms:.1f} ms max; "
       "latest {last_docs} documents {last_ms:.1f} ms; {ticks} ticks, {speed_scans} speed scans, "
       "{batch_whole_reads} whole batch reads, {batch_hours_read} batch hours read by _id, {pending_writes} pane writes pending").format(label=sys.argv[1], **r)
      + "; panes cached: batch {batch_panes}, speed {speed_panes}".format(**d))' "$1"
}
until caught; do alive; sleep 2; done
echo "history $HISTORY: caught up $(since)"
peak "until caught up (backfill, catch-up)"
# The catch-up's ticks (at most tickWrites panes each, the rest pending).
refresh "at the catch-up"
until horizon_within 1e12; do alive; sleep 2; done
echo "first batch horizon $(since)"
peak "until the first horizon (first compaction, recompute)"
until horizon_within 7200; do alive; sleep 5; done
echo "batch horizon within 2 h of now $(since)"
peak "until a horizon within 2 h"
sleep 5 # a few refreshes over the new horizon
rss() { ps -o rss= -p "$pid" | awk '{printf "%.0f MiB", $1/1024}'; }
gosys() { curl -sf "http://$PPROF/debug/pprof/heap?debug=1" | awk '/^# Sys = /{printf "%.0f MiB", $4/1048576}'; }
echo "resident memory $(rss) (Go runtime: $(gosys))"
for d in kafka mongo lake; do echo "disk $d $(du -sh "$work/data/$d" 2>/dev/null | cut -f1)"; done
# A window of ticks (60) with nothing but the live feed, so that the
# figures are the steady state's, not the catch-up's (at most 3 minutes).
ticks() { status | python3 -c 'import json, sys; print(json.load(sys.stdin)["refresh"]["ticks"])'; }
t0=$(ticks); for _ in $(seq 36); do (( $(ticks) >= t0 + 60 )) && break; sleep 5; done
refresh "at the horizon (steady state)"

now=$(date -u +%s); to=$(( (now / 900 + 1) * 900 )); from=$(( to - 86400 ))
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
R="from=$(iso $from)&to=$(iso $to)"
hourR="from=$(iso $(( to - 3600 )))&to=$(iso $to)"
if [[ -n "${PROFILE:-}" ]]; then
  curl -sf -o "$work/cpu.pprof" "http://$PPROF/debug/pprof/profile?seconds=10" &
  profiling=$!
fi
ms() { python3 -c "import sys; print(float(sys.argv[1])*1000)" "$1"; }
printf "%-30s %9s %9s %8s %8s\n" "HTTP GET (last 24 h)" "first ms" "req/s" "p50 ms" "p99 ms"
for q in "/healthz" "/v1/status" "/v1/hot?$R&k=10" "/v1/traffic?$R&step=1h" "/v1/traffic?$R&step=15m" "/v1/traffic?$hourR&step=5m" \
  "/v1/levels?$R&step=1h" "/v1/patterns?$R&step=1h&k=10" "/v1/clusters?$R&k=5&step=1h" "/v1/paths?$R&k=10" \
  "/v1/window?last=24h&points=96&to=$(iso $to)"; do
  first=$(curl -s -o /dev/null -w '%{time_total}' "$base$q")
  out=$("$HEY" -z "$DURATION" -c "$CLIENTS" "$base$q")
  echo "$out" | grep -q '\[200\]' || { echo "$q: no 200 answers: $out" >&2; exit 1; }
  name=$(echo "$q" | sed "s/$R&\{0,1\}//; s/$hourR&/(last hour) /; s/&to=.*//; s/?$//")
  printf "%-30s %9.1f %9.0f %8.2f %8.2f\n" "$name" "$(ms "$first")" \
    "$(echo "$out" | awk '/Requests\/sec/{print $2}')" \
    "$(echo "$out" | awk '/ 50%% in/{print $3*1000}')" \
    "$(echo "$out" | awk '/ 99%% in/{print $3*1000}')"
done

gto=$(( to + 900 )); gfrom=$(( gto - 86400 ))
printf "%-30s %9s %9s %8s %8s\n" "gRPC (24 h, 15 min later)" "first ms" "req/s" "p50 ms" "p99 ms"
grpc() {
  local name=$1; shift
  local out
  out=$("$work/grpcload" -raw -addr "$GRPC" -c "$CLIENTS" -d "$DURATION" "$@")
  python3 -c '
import sys
f = {k: float(v) for k, v in (kv.split("=") for kv in sys.argv[2].split())}
line = "{:<30} {first_ms:9.1f} {rps:9.0f} {p50_ms:8.2f} {p99_ms:8.2f}".format(sys.argv[1], **f)
print(line + ("  ({:.0f} errors)".format(f["errors"]) if f["errors"] else ""))' "$name" "$out"
}
G=(-from "$(iso $gfrom)" -to "$(iso $gto)")
grpc "Health (the limit)" -rpc Health
grpc Status -rpc Status
grpc "Hot k=10" -rpc Hot -k 10 "${G[@]}"
grpc "Traffic step=1h" -rpc Traffic -step 1h "${G[@]}"
grpc "Traffic step=15m" -rpc Traffic -step 15m "${G[@]}"
grpc "Traffic (last hour) step=5m" -rpc Traffic -step 5m -from "$(iso $(( gto - 3600 )))" -to "$(iso $gto)"
grpc "Levels step=1h" -rpc Levels -step 1h "${G[@]}"
grpc "Patterns step=1h k=10" -rpc Patterns -step 1h -k 10 "${G[@]}"
grpc "Clusters step=1h k=5" -rpc Clusters -step 1h -k 5 "${G[@]}"
grpc "Paths k=10" -rpc Paths -k 10 "${G[@]}"
[[ -z "${PROFILE:-}" ]] || { wait "$profiling"; echo "CPU profile: $work/cpu.pprof (go tool pprof -top $work/loglambda $work/cpu.pprof)"; }

# The dashboard over 24 h, pinned 30 minutes ahead so that its questions
# are new: every API request's Resource Timing, in real time
# (internal/pagetimings: Chromium over the DevTools protocol).
if command -v chromium >/dev/null; then
  go build -o "$work/pagetimings" ./internal/pagetimings
  "$work/pagetimings" -url "$base/?range=24h&to=$(iso $(( to + 1800 )))" | python3 -c '
import sys
lines = sys.stdin.read().splitlines()
print("dashboard over 24 h (Chromium, Resource Timing, first requests): " + "; ".join(lines[:-1]))
print("dashboard " + lines[-1])' || echo "dashboard: pagetimings failed"
else
  echo "dashboard: chromium not found, skipped"
fi
echo "resident memory at the end $(rss)"
peak "during the answers and the dashboard"
