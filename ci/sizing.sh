#!/usr/bin/env bash
# ci/sizing.sh: the storage figures of README.md's sizing guide, from a
# short demo (not part of the test run). Starts `loglambda up --demo
# --demo-history $HISTORY` (default 2h) on spare ports in a fresh data
# directory, waits until speed caught up (under the live feed: each
# partition's lag below 1000 records, its watermark within 5 minutes of
# now) and batch recomputed the history (the horizon within two hours of
# now), stops it with SIGINT, then prints:
#   - events (the topic's records: the partitions' high watermarks), the
#     catch-up time and what it makes in events/s for the whole stack
#     (speed, batch and serving in one process);
#   - the first batch run of the history: compaction lines/s, recompute
#     seconds per hour of data (its panes / 60) and events per second,
#     with speed and serving running beside it;
#   - bytes per event on disk in Kafka (kfake's segment files), in the
#     lake (Parquet, the manifest's bytes over its rows) and in MongoDB
#     (FerretDB's SQLite files: view documents are per pane, not per
#     event, so this figure is the demo's traffic mix at its rate).
# Usage: ci/sizing.sh     HISTORY=6h ci/sizing.sh     PORTS=36100 ci/sizing.sh
# (PORTS: the first of four consecutive ports to use; default: free ones)
# Run on an idle machine for the catch-up rate; the byte figures do not
# depend on the load.
set -euo pipefail
cd "$(dirname "$0")/.."
HISTORY="${HISTORY:-2h}"
work=$(mktemp -d)
go build -o "$work/loglambda" .
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
if [[ -n "${PORTS:-}" ]]; then
  HTTP=127.0.0.1:$PORTS GRPC=127.0.0.1:$((PORTS+1)) KAFKA=127.0.0.1:$((PORTS+2)) MONGO=127.0.0.1:$((PORTS+3))
else
  HTTP=127.0.0.1:$(port) GRPC=127.0.0.1:$(port) KAFKA=127.0.0.1:$(port) MONGO=127.0.0.1:$(port)
fi
base=http://$HTTP
start=$(date +%s.%N)
"$work/loglambda" up --demo --demo-history "$HISTORY" --data "$work/data" \
  --http "$HTTP" --grpc "$GRPC" --kafka-listen "$KAFKA" --mongo-listen "$MONGO" >"$work/up.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
status() { curl -sf "$base/v1/status" || true; }
# ready: speed has no lag and a watermark within 5 minutes of now, and
# the batch horizon is within 2 hours of now.
ready() {
  status | python3 -c '
import json, sys, datetime
try: d = json.load(sys.stdin)
except Exception: sys.exit(1)
ps = d.get("partitions") or []
if not ps or any(p["lag"] >= 1000 or not p["watermark"] for p in ps): sys.exit(1)
now = datetime.datetime.now(datetime.timezone.utc)
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
if (now - min(t(p["watermark"]) for p in ps)).total_seconds() > 300: sys.exit(1)
h = d.get("batch_horizon")
sys.exit(0 if h and (now - t(h)).total_seconds() < 7200 else 1)'
}
caught=""
until ready; do
  kill -0 "$pid" || { tail "$work/up.log"; exit 1; }
  sleep 2
done
caught=$(python3 -c "import sys,time; print(f'{time.time()-float(sys.argv[1]):.1f}')" "$start")
status >"$work/status.json"
kill -INT "$pid"
wait "$pid" || true
python3 - "$work/status.json" "$work/data" "$caught" "$HISTORY" "$work/up.log" <<'EOF'
import json, os, re, sys
st, data, caught, history = json.load(open(sys.argv[1])), sys.argv[2], float(sys.argv[3]), sys.argv[4]
rate = 0.0
for line in open(sys.argv[5]):
    m = re.search(r'msg="demo feed" .* rate=([0-9.]+)', line)
    if m:
        rate = float(m.group(1))
    m = re.search(r'msg="batch run" .*summary="(.*)"$', line.rstrip())
    if m:
        run = json.loads(m.group(1).encode().decode("unicode_escape"))
        c, r = run["compact"], run["recompute"]
        hours = r["panes"] / 60
        print(f"first batch run: compaction {c['rows']:,} lines in {c['seconds']:.1f} s ({c['rows']/max(c['seconds'],1e-9):,.0f} lines/s); "
              f"recompute {len(r['hours'])} hours ({r['panes']} panes = {hours:.2f} hours of data) in {r['seconds']:.1f} s: "
              f"{r['seconds']/max(hours,1e-9):.1f} s per hour of data at {rate*3600:,.0f} events per hour, {rate*3600*hours/max(r['seconds'],1e-9):,.0f} events/s")
        break
def du(d):
    n = 0
    for root, _, files in os.walk(os.path.join(data, d)):
        for f in files:
            try: n += os.path.getsize(os.path.join(root, f))
            except OSError: pass
    return n
events = sum(p["high_watermark"] for p in st["partitions"])
lake = st.get("lake") or {}
rows, lbytes = lake.get("rows", 0), lake.get("bytes", 0)
print(f"history {history}: {events:,} events; caught up and recomputed in {caught:.0f} s ({events/caught:,.0f} events/s, the whole stack in one process)")
for name, b, n in (("kafka", du("kafka"), events), ("lake (manifest)", lbytes, rows), ("lake (disk)", du("lake"), events), ("mongo", du("mongo"), events)):
    print(f"{name:16s} {b/1e6:10.1f} MB  {b/max(n,1):8.1f} bytes/event")
EOF
