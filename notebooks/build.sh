#!/usr/bin/env bash
# notebooks/build.sh: make the deterministic example lake and execute every
# notebook on it, with the HTTP API of an `up` over the same data.
#
#   notebooks/build.sh            execute the notebooks in place: the outputs
#                                 that are committed
#   notebooks/build.sh --out DIR  write the executed notebooks to DIR instead,
#                                 then check the figures they recorded against
#                                 `loglambda sql` on the same lake (CI)
#   notebooks/build.sh --against DATA [--api URL] [--out DIR]
#                                 make no lake: execute the notebooks on the
#                                 lake of a running `up --data DATA` (or on
#                                 the lake directory DATA) and its API (default
#                                 http://127.0.0.1:8080), into DIR (default a
#                                 new temporary directory, never in place)
#
# The lake: `loglambda gen` with a fixed seed and start (3 h at 5 events/s,
# 54 000 events, 4 partitions) plus a few lines that do not parse, shipped
# as they are, into the Kafka of an `up` that runs no batch of its own; its
# speed layer consumes them all; then one `loglambda batch run`. Right after gen the partitions are not quiet yet,
# so batch leaves the last hour to speed: the horizon lies inside the data.
# NB_START, NB_HOURS, NB_RATE and NB_SEED change the lake (CI keeps them).
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: notebooks/build.sh [--out DIR] [--against DATA [--api URL]]"
out="" against="" api=""
while [ $# -gt 0 ]; do
  case "$1" in
  --out | --against | --api) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; } ;;&
  --out) out="$2"; shift 2 ;;
  --against) against="$2"; shift 2 ;;
  --api) api="$2"; shift 2 ;;
  *) echo "$usage" >&2; exit 2 ;;
  esac
done
[ -z "$api" ] || [ -n "$against" ] || { echo "--api goes with --against" >&2; exit 2; }

NB_START=${NB_START:-2026-11-20T09:00:00Z}
NB_HOURS=${NB_HOURS:-3}
NB_RATE=${NB_RATE:-5}
NB_SEED=${NB_SEED:-1}
py=/usr/bin/python3 # Debian's, with nbclient, pandas and matplotlib

log() { printf '== notebooks [%ss]: %s\n' "$SECONDS" "$*" >&2; }

# NB_WORK keeps the lake, up's data and logs in that directory (to look at
# them afterwards) instead of a temporary one removed at the end.
if [ -n "${NB_WORK:-}" ]; then
  work="$NB_WORK"
  rm -rf "$work/data"
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/loglambda-notebooks.XXXXXX)
fi
up_pid=""
cleanup() {
  if [ -n "$up_pid" ] && kill -0 "$up_pid" 2>/dev/null; then
    kill -INT "$up_pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$up_pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$up_pid" 2>/dev/null || true
  fi
  [ -n "${NB_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# NB_BIN: a loglambda binary built already (else it is built here).
bin="${NB_BIN:-}"
if [ -z "$bin" ]; then
  log "building loglambda"
  go build -o "$work/loglambda" .
  bin="$work/loglambda"
fi

if [ -n "$against" ]; then
  lakedir="$against"
  [ -d "$against/lake" ] && lakedir="$against/lake"
  [ -n "$out" ] || out=$(mktemp -d /tmp/loglambda-notebooks-out.XXXXXX)
  mkdir -p "$out"
  export LOGLAMBDA_LAKE="$lakedir" LOGLAMBDA_API="${api:-http://127.0.0.1:8080}" LOGLAMBDA_BIN="$bin"
  export LOGLAMBDA_NB_FIGURES="$work/figures.jsonl"
  unset LOGLAMBDA_NB_WHERE
  rm -f "$LOGLAMBDA_NB_FIGURES"
  log "executing the notebooks on the lake $lakedir and the API $LOGLAMBDA_API into $out"
  rc=0
  "$py" notebooks/run.py --out "$out" notebooks/[0-9]*.ipynb || rc=$?
  # A live lake moves on: a batch run between a notebook and its check
  # can make a figure differ; figures a notebook had no data for are
  # listed, not failed.
  log "checking the notebooks' figures against loglambda sql"
  "$py" notebooks/check_figures.py --partial "$LOGLAMBDA_NB_FIGURES" || rc=$?
  log "the executed notebooks are in $out"
  exit "$rc"
fi

kafka="127.0.0.1:$(free_port)"
mongo="127.0.0.1:$(free_port)"
http="127.0.0.1:$(free_port)"
data="$work/data"
log "starting up (no demo, no batch of its own) on $http, data in $data"
"$bin" up --data "$data" --kafka-listen "$kafka" --mongo-listen "$mongo" --http "$http" --grpc "" \
  --batch-first 1000h >"$work/up.log" 2>&1 &
up_pid=$!

# wait_status waits until /v1/status satisfies a Python condition on s.
wait_status() {
  local what="$1" cond="$2" secs="$3"
  if ! "$py" - "$http" "$cond" "$secs" <<'PY'; then
import json, sys, time, urllib.request
base, cond, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline, last = time.time() + secs, None
while time.time() < deadline:
    try:
        with urllib.request.urlopen(f"http://{base}/v1/status", timeout=5) as r:
            s = json.load(r)
        if eval(cond, {}, {"s": s}):
            sys.exit(0)
        last = {k: s.get(k) for k in ("batch_horizon", "events", "late_dropped", "parse_errors")}
        last["lag"] = [p.get("lag") for p in s.get("partitions") or []]
    except OSError as e:
        last = e
    time.sleep(1)
print("last status:", last, file=sys.stderr)
sys.exit(1)
PY
    log "timed out waiting for $what; up's log:"
    tail -20 "$work/up.log" >&2
    exit 1
  fi
}
wait_status "the API" 'True' 60

# The history in one go: speed writes a backlog command by command, however
# long it takes (speed.go, flushTimeout), so it needs no chunks. Then the
# lines that do not parse; then speed has caught up once.
count=$("$py" -c "print(int($NB_HOURS * 3600 * $NB_RATE))")
log "gen: $count events from $NB_START at $NB_RATE/s, seed $NB_SEED"
"$bin" gen --brokers "$kafka" --seed "$NB_SEED" --start "$NB_START" --rate "$NB_RATE" \
  --count "$count" --late 0.001 2>"$work/gen.log" || { cat "$work/gen.log" >&2; exit 1; }
log "ship: lines that do not parse"
"$bin" ship --brokers "$kafka" --format json notebooks/testdata/odd-lines.log
odd=$(wc -l <notebooks/testdata/odd-lines.log)
wait_status "speed" "len(s['partitions']) > 0 and sum(p['offset'] + 1 for p in s['partitions']) >= $count + $odd" 300

log "batch run"
"$bin" batch run --brokers "$kafka" --mongo-uri "mongodb://$mongo" --lake "$data/lake" >"$work/batch.json"
wait_status "serving to see the horizon" "s['batch_horizon'] is not None" 60

export LOGLAMBDA_LAKE="$data/lake" LOGLAMBDA_API="http://$http" LOGLAMBDA_BIN="$bin"
export LOGLAMBDA_NB_FIGURES="$work/figures.jsonl" LOGLAMBDA_NB_WHERE="the example lake and API of notebooks/build.sh"
rm -f "$LOGLAMBDA_NB_FIGURES"
if [ -n "$out" ]; then
  mkdir -p "$out"
  log "executing the notebooks into $out"
  "$py" notebooks/run.py --out "$out" notebooks/[0-9]*.ipynb
else
  log "executing the notebooks in place"
  "$py" notebooks/run.py notebooks/[0-9]*.ipynb
fi
log "checking the notebooks' figures against loglambda sql"
"$py" notebooks/check_figures.py "$LOGLAMBDA_NB_FIGURES"
log "ok"
