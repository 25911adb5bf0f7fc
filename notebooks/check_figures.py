"""Compare figures the notebooks recorded (lake.record, one JSON object per
line in the file LOGLAMBDA_NB_FIGURES) with `loglambda sql` on the same lake.

Each figure has its own query here, written apart from the notebook's: the
notebooks add up per-hour or per-bucket frames in pandas, or read the API;
these ask DuckDB for the total directly (CSV output, parsed by the csv
module), so a slip in either shows as a mismatch. Every figure a notebook
records must have a check, and every check a figure: a notebook that stops
recording one fails here too.

    LOGLAMBDA_LAKE=... LOGLAMBDA_BIN=... /usr/bin/python3 notebooks/check_figures.py [--partial] FIGURES
"""

import csv
import io
import json
import os
import re
import subprocess
import sys

# name -> SQL of its expected value (one row, one column). Placeholders
# {name} take other recorded figures (times as RFC 3339).
CHECKS = {
    # 01 tour
    "tour.events": "SELECT count(*) FROM logs",
    "tour.parse_errors": "SELECT count(*) FROM logs WHERE parse_error <> ''",
    "tour.raw_bytes": "SELECT sum(octet_length(raw)) FROM logs",
    "tour.status_5xx": "SELECT count(*) FROM logs WHERE status >= 500 AND status < 600 AND NOT time_missing",
    # 02 traffic and hot terms
    "traffic.pv": "SELECT count(*) FROM logs WHERE parse_error = '' AND NOT time_missing",
    # A visitor as views.Traffic counts one: uv, else a real user, else the
    # IP; nobody when all are empty.
    "traffic.visitors": """SELECT count(*) FROM (
        SELECT DISTINCT CASE WHEN uv <> '' THEN uv WHEN "user" NOT IN ('', '-') THEN "user" ELSE ip END AS v
        FROM logs WHERE parse_error = '' AND NOT time_missing) WHERE v <> ''""",
    "traffic.top_term": """SELECT hot_term FROM logs WHERE hot_term <> '' AND NOT time_missing
        GROUP BY hot_term ORDER BY count(*) DESC, hot_term LIMIT 1""",
    "traffic.top_term_count": "SELECT count(*) FROM logs WHERE hot_term = '{traffic.top_term}' AND NOT time_missing",
    # 03 batch and speed: what the API answered from batch views, against the lake
    "speed.batch_pv": """SELECT count(*) FROM logs WHERE parse_error = ''
        AND ts >= TIMESTAMPTZ '{speed.from}' AND ts < TIMESTAMPTZ '{speed.horizon}'""",
    "speed.batch_uv": """SELECT count(*) FROM (
        SELECT DISTINCT CASE WHEN uv <> '' THEN uv WHEN "user" NOT IN ('', '-') THEN "user" ELSE ip END AS v
        FROM logs WHERE parse_error = '' AND ts >= TIMESTAMPTZ '{speed.from}' AND ts < TIMESTAMPTZ '{speed.horizon}')
        WHERE v <> ''""",
    "speed.from": None,  # inputs of the checks above
    "speed.horizon": None,
    # 05 patterns: the patterns view counts every line, in some pattern or (other)
    "patterns.batch_total": """SELECT count(*) FROM logs
        WHERE ts >= TIMESTAMPTZ '{patterns.from}' AND ts < TIMESTAMPTZ '{patterns.horizon}'""",
    "patterns.from": None,
    "patterns.horizon": None,
    # 06 clusters: over batch's part, the events with the cluster fields
    # (build.sh keeps the default latency_ms,bytes; a field is absent at 0)
    # and those without them, each counted from the lake.
    "clusters.batch_events": """SELECT count(*) FROM logs WHERE parse_error = '' AND (latency_ms <> 0 OR bytes <> 0)
        AND ts >= TIMESTAMPTZ '{clusters.from}' AND ts < TIMESTAMPTZ '{clusters.to}'""",
    "clusters.batch_missing": """SELECT count(*) FROM logs WHERE parse_error = '' AND latency_ms = 0 AND bytes = 0
        AND ts >= TIMESTAMPTZ '{clusters.from}' AND ts < TIMESTAMPTZ '{clusters.to}'""",
    "clusters.from": None,
    "clusters.to": None,
    # 04 errors
    "errors.worst_hour": """SELECT strftime(date_trunc('hour', ts), '%Y-%m-%dT%H:%M:%SZ') FROM logs
        WHERE level = 'ERROR' AND NOT time_missing GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""",
    "errors.worst_hour_errors": "SELECT count(*) FROM logs WHERE level = 'ERROR' AND date_trunc('hour', ts) = TIMESTAMPTZ '{errors.worst_hour}'",
    "errors.total": "SELECT count(*) FROM logs WHERE level = 'ERROR' AND NOT time_missing",
}


def query(sql):
    cmd = [os.environ.get("LOGLAMBDA_BIN", "loglambda"), "sql", "--format", "csv", "-"]
    p = subprocess.run(cmd, input=sql.encode(), capture_output=True, check=False)
    if p.returncode != 0:
        raise SystemExit(f"loglambda sql: {p.stderr.decode().strip()}\nquery: {sql}")
    rows = list(csv.reader(io.StringIO(p.stdout.decode())))
    if len(rows) != 2 or len(rows[1]) != 1:
        raise SystemExit(f"query {sql!r}: want one value, got {rows}")
    return rows[1][0]


def same(got, want):
    try:
        return abs(float(got) - float(want)) < 1e-9
    except (TypeError, ValueError):
        return str(got) == str(want)


def main():
    args = sys.argv[1:]
    # --partial: a lake that is not the example one may lack what a figure
    # needs (no batch horizon yet): a figure no notebook recorded is
    # listed, not failed.
    partial = args[:1] == ["--partial"]
    if partial:
        args = args[1:]
    figures = {}
    if partial and not os.path.exists(args[0]):
        print("no figures recorded")
        return 0
    with open(args[0]) as f:
        for line in f:
            r = json.loads(line)
            figures[r["name"]] = r["value"]
    bad = 0
    missing = sorted(set(CHECKS) - set(figures))
    unknown = sorted(set(figures) - set(CHECKS))
    for n in missing:
        print(f"{'skip' if partial else 'FAIL'} {n}: no notebook recorded it")
    for n in unknown:
        print(f"FAIL {n}: recorded, but check_figures.py has no query for it")
    bad += (0 if partial else len(missing)) + len(unknown)
    for name, sql in CHECKS.items():
        if sql is None or name not in figures:
            continue
        for k, v in figures.items():
            sql = sql.replace("{" + k + "}", str(v).replace("'", "''"))
        if re.search(r"\{[a-z_]+\.[a-z_]+\}", sql):
            continue  # an input is missing, listed above
        want = query(sql)
        ok = same(figures[name], want)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: notebook {figures[name]!r}, loglambda sql {want!r}")
        bad += not ok
    if bad:
        print(f"{bad} figure(s) differ or are missing")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
