"""Read a loglambda lake and its HTTP API into pandas, for the notebooks here.

The lake is plain Hive-partitioned Parquet (lake/<topic>/dt=YYYY-MM-DD/hour=HH/
*.parquet, listed in lake/<topic>/_manifest.json), so `sql()` runs DuckDB over
it, through the first of these that works:

  1. DuckDB's Python package (`import duckdb`), over the files the manifest
     lists (`loglambda lake files --json`: this module never reads the
     manifest itself), as the views `logs` and "<topic>" (what `loglambda sql` defines);
  2. the `loglambda sql` command (`--format json`: the answer carries the
     column types, so times arrive as UTC datetimes and counts as integers);
  3. the API's `POST /v1/sql` (a lake on another machine; at most 10000 rows).

Where things are, from the environment, with the defaults of `loglambda up`:

  LOGLAMBDA_LAKE   the lake directory (default ./data/lake, or ../data/lake
                   when the notebook runs in notebooks/ of a checkout where
                   `up` was started)
  LOGLAMBDA_TOPIC  the topic (default logs)
  LOGLAMBDA_API    the HTTP API (default http://127.0.0.1:8080)
  LOGLAMBDA_BIN    the loglambda command (default: loglambda on PATH, else
                   ../loglambda)
  LOGLAMBDA_SQL    force a way: duckdb, cli or api
"""

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd

TOPIC = os.environ.get("LOGLAMBDA_TOPIC", "logs")
API = os.environ.get("LOGLAMBDA_API", "http://127.0.0.1:8080").rstrip("/")
# Enough for any aggregate a notebook asks for; loglambda sql's own default
# (10000) is meant for people at a terminal.
ROW_LIMIT = 1_000_000


def _default_lake():
    for p in (Path("data/lake"), Path("../data/lake")):
        if (p / TOPIC).is_dir():
            return p
    return Path("data/lake")


LAKE = Path(os.environ.get("LOGLAMBDA_LAKE") or _default_lake())


def _default_bin():
    b = os.environ.get("LOGLAMBDA_BIN")
    if b:
        return b
    return shutil.which("loglambda") or (str(Path("../loglambda").resolve()) if Path("../loglambda").is_file() else None)


BIN = _default_bin()


class LakeError(RuntimeError):
    """A query could not run: no way to reach the lake, or DuckDB refused it."""


def files():
    """The lake's committed files as a DataFrame (path, dt, hour, start,
    rows, parse_errors, bytes, partition, first_offset, last_offset), from
    `loglambda lake files --json`: the one reader of the manifest, with its
    version check. None when the lake is not a local directory (read over
    the API); a LakeError when there is no loglambda command or no manifest."""
    if not (LAKE / TOPIC).is_dir():
        return None
    if BIN is None:
        raise LakeError(f"listing the lake {LAKE / TOPIC} needs the loglambda command: set LOGLAMBDA_BIN")
    cmd = [BIN, "lake", "files", "--json", "--lake", str(LAKE), "--topic", TOPIC]
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode != 0:
        raise LakeError(f"loglambda lake files: {p.stderr.decode(errors='replace').strip()}")
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    cols = ["path", "dt", "hour", "start", "rows", "parse_errors", "bytes", "partition", "first_offset", "last_offset"]
    df = pd.DataFrame(rows, columns=cols)
    df["start"] = pd.to_datetime(df["start"], utc=True)
    return df


def _lake_files():
    f = files()
    if f is None or f.empty:
        raise LakeError(f"no lake files under {LAKE / TOPIC}: run `loglambda batch compact --lake {LAKE}` first")
    return list(f["path"])


# --- the three ways to run a query ---------------------------------------


def _duckdb_available():
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return BIN is not None and (LAKE / TOPIC).is_dir()


def _sql_duckdb(query):
    # Written against DuckDB's Python API as documented (duckdb.connect,
    # DuckDBPyConnection.execute and .sql, DuckDBPyRelation.types and
    # .df): the package is not installed where CI runs, so this path is
    # not executed there (see README.md).
    import duckdb

    files = _lake_files()
    con = duckdb.connect()  # in memory, like each `loglambda sql`
    try:
        try:
            # Time functions (date_trunc, strftime, casts to DATE) then
            # work in UTC as on the servers, and df() returns UTC. ICU
            # ships with the package; without it TIMESTAMPTZ is UTC anyway.
            con.execute("SET TimeZone = 'UTC'")
        except duckdb.Error:
            pass
        # The views of serving/lakesql/setup.go: the manifest's files only.
        listing = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
        con.execute(f"CREATE VIEW logs AS SELECT * FROM read_parquet({listing}, hive_partitioning = true, union_by_name = true)")
        if TOPIC != "logs":
            con.execute('CREATE VIEW "{}" AS SELECT * FROM logs'.format(TOPIC.replace('"', '""')))
        try:
            rel = con.sql(query)  # a lazy relation for a SELECT, DESCRIBE, SUMMARIZE ...
        except duckdb.Error as e:
            raise LakeError(f"duckdb: {e}") from None
        if rel is None:  # a statement without rows
            return pd.DataFrame()
        types = [(name, str(t)) for name, t in zip(rel.columns, rel.types)]
        df = rel.df()
    finally:
        con.close()
    return _typed(df, types)


def _cli_available():
    return BIN is not None and (LAKE / TOPIC).is_dir()


def _sql_cli(query):
    cmd = [BIN, "sql", "--lake", str(LAKE), "--topic", TOPIC, "--format", "json", "--limit", str(ROW_LIMIT), "-"]
    p = subprocess.run(cmd, input=query.encode(), capture_output=True)
    if p.returncode != 0:
        raise LakeError(f"loglambda sql: {p.stderr.decode(errors='replace').strip()}")
    return _frame(json.loads(p.stdout))


def _api_available():
    try:
        api("/healthz", raw=True)
        return True
    except (OSError, LakeError):
        return False


def _sql_api(query):
    req = urllib.request.Request(API + "/v1/sql?format=json", data=query.encode(), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            ans = json.load(r)
    except urllib.error.HTTPError as e:
        raise LakeError(f"POST {API}/v1/sql: {e.code}: {e.read().decode(errors='replace').strip()}") from None
    if ans.get("truncated"):
        raise LakeError(f"POST {API}/v1/sql: the answer was cut at the server's row limit; aggregate more")
    return _frame(ans)


_INTS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT"}


def _frame(ans):
    """A DataFrame of loglambda's JSON answer, typed by its column types."""
    if ans.get("truncated"):
        raise LakeError(f"the answer was cut at {ROW_LIMIT} rows; aggregate more")
    names = [c["name"] for c in ans["columns"]]
    return _typed(pd.DataFrame(ans["rows"], columns=names), [(c["name"], c["type"]) for c in ans["columns"]])


def _typed(df, types):
    """df with each column as its DuckDB type (name, type) says, whichever
    way it came: JSON values from loglambda sql and /v1/sql, or DuckDB's
    df(), which gives a HUGEINT (any sum of integers) as a float and a BLOB
    as bytes. So every way answers the same: times as UTC datetimes,
    integers as int64 (Int64 with NULLs), BLOBs as text (invalid UTF-8 as
    \\x escapes, as loglambda sql prints them)."""
    for name, typ in types:
        col = df[name]
        if typ.startswith("TIMESTAMP"):
            # Aware columns convert to UTC; naive ones (TIMESTAMP, and
            # TIMESTAMPTZ from older DuckDB packages) are UTC already.
            df[name] = pd.to_datetime(col, utc=True)
        elif typ == "DATE":
            df[name] = pd.to_datetime(col)
        elif typ in _INTS or (typ.startswith("DECIMAL(") and typ.endswith(",0)")):
            df[name] = col.astype("Int64") if col.isna().any() else col.astype("int64")
        elif typ in ("DOUBLE", "FLOAT") or typ.startswith("DECIMAL("):
            df[name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif typ == "BOOLEAN":
            df[name] = col.astype("boolean") if col.isna().any() else col.astype(bool)
        elif typ == "BLOB":
            df[name] = col.map(lambda b: b.decode("utf-8", "backslashreplace") if isinstance(b, (bytes, bytearray)) else b)
    return df


_WAYS = {
    "duckdb": (_duckdb_available, _sql_duckdb, "DuckDB's Python package"),
    "cli": (_cli_available, _sql_cli, "loglambda sql"),
    "api": (_api_available, _sql_api, "POST /v1/sql"),
}
_chosen = None


def way():
    """The name of the way queries run (duckdb, cli or api), chosen once."""
    global _chosen
    if _chosen is None:
        forced = os.environ.get("LOGLAMBDA_SQL")
        names = [forced] if forced else list(_WAYS)
        for n in names:
            if n not in _WAYS:
                raise LakeError(f"LOGLAMBDA_SQL={n!r}: want duckdb, cli or api")
            if _WAYS[n][0]():
                _chosen = n
                break
        else:
            raise LakeError(
                f"cannot reach the lake: no duckdb Python package, no lake at {LAKE / TOPIC} "
                f"with a loglambda command (LOGLAMBDA_BIN={BIN}), and no API at {API}. "
                "Set LOGLAMBDA_LAKE to the lake (up keeps it in <data>/lake) or LOGLAMBDA_API to a running server."
            )
    return _chosen


def sql(query):
    """Run one read-only query over the lake (views logs and "<topic>") and
    return its rows as a DataFrame; times are UTC."""
    return _WAYS[way()][1](query)


# LOGLAMBDA_NB_WHERE names the lake and API in the notebooks' text instead
# of their paths: notebooks/build.sh sets it, so that the committed outputs
# do not change with its temporary directory and ports.
_WHERE = os.environ.get("LOGLAMBDA_NB_WHERE")


def describe():
    """One line saying where the lake is and how it is read."""
    where = f"{LAKE / TOPIC}" if way() != "api" else f"the lake of {API}"
    return f"lake: {_WHERE or where} (topic {TOPIC}), read with {_WAYS[way()][2]}"


def api_name():
    """The API's address as the notebooks print it."""
    return _WHERE or API


# --- the HTTP API ----------------------------------------------------------


def api(path, raw=False, **params):
    """GET API+path with the query parameters (datetimes as RFC 3339 UTC);
    the decoded JSON answer."""
    q = {}
    for k, v in params.items():
        if v is None:
            continue
        if isinstance(v, pd.Timestamp):
            v = v.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        q[k] = v
    url = API + path + ("?" + urllib.parse.urlencode(q) if q else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        raise LakeError(f"GET {url}: {e.code}: {e.read().decode(errors='replace').strip()}") from None
    return body if raw else json.loads(body)


def api_reachable():
    """Whether the API answers; the notebooks skip their API parts, saying
    so, when it does not."""
    return _api_available()


# --- SQL pieces --------------------------------------------------------------

# The views' keys as SQL over the lake's columns, as batch recompute counts
# them (schemas/event VisitorSQL, batch/sql.go sqlInstanceKey and
# sqlLevelKey): a notebook's counts then match the API's.
VISITOR = """CASE WHEN uv <> '' THEN uv WHEN "user" <> '' AND "user" <> '-' THEN "user" ELSE ip END"""
INSTANCE = "CASE WHEN instance <> '' THEN instance WHEN host <> '' THEN host ELSE '-' END"
LEVEL = "CASE WHEN level <> '' THEN level ELSE '-' END"


def bucket(step, col="ts"):
    """SQL of col floored to a multiple of step (a Timedelta) since the Unix
    epoch, as a UTC timestamp: the API's buckets, whatever DuckDB's time
    zone setting."""
    us = int(step.total_seconds() * 1_000_000)
    return f"to_timestamp((epoch_us({col}) // {us}) * {us} / 1000000)"


# --- plots -----------------------------------------------------------------


def utc_axis(ax, span=None):
    """Label ax's x axis as UTC time, with ticks fit for a span (Timedelta)."""
    if span is not None and span > pd.Timedelta(days=2):
        fmt = "%m-%d"
    elif span is not None and span > pd.Timedelta(hours=12):
        fmt = "%m-%d %H:%M"
    else:
        fmt = "%H:%M"
    ax.xaxis.set_major_formatter(mdates.DateFormatter(fmt, tz="UTC"))
    ax.set_xlabel("time (UTC)")
    ax.grid(True, alpha=0.3)


def step_for(span):
    """A bucket width that gives a readable series over span: 5 minutes for
    hours, an hour for days, a day beyond two weeks."""
    if span <= pd.Timedelta(hours=12):
        return pd.Timedelta(minutes=5)
    if span <= pd.Timedelta(days=14):
        return pd.Timedelta(hours=1)
    return pd.Timedelta(days=1)


def step_label(step):
    """'5 min', '1 h' or '1 day' for a step."""
    s = int(step.total_seconds())
    if s % 86400 == 0:
        return f"{s // 86400} day" if s == 86400 else f"{s // 86400} days"
    if s % 3600 == 0:
        return f"{s // 3600} h"
    return f"{s // 60} min"


def span_text(span):
    """A time span for people: '3 h 28 min', '2 days 4 h'."""
    m = int(span.total_seconds() // 60)
    d, h, m = m // 1440, m // 60 % 24, m % 60
    parts = [f"{d} day" + ("s" if d != 1 else "")] if d else []
    if h:
        parts.append(f"{h} h")
    if m and not d:
        parts.append(f"{m} min")
    return " ".join(parts) or f"{int(span.total_seconds())} s"


def time_range():
    """The [first, last] event time of the lake's parsed events (lines
    without a time of their own are placed at their ingest time and left
    out)."""
    r = sql("SELECT min(ts) AS first, max(ts) AS last FROM logs WHERE NOT time_missing")
    return r["first"][0], r["last"][0]


# --- figures the CI checks -------------------------------------------------


def record(name, value):
    """Show a figure the notebook computed and, when LOGLAMBDA_NB_FIGURES
    names a file (notebooks/build.sh sets it), append it there, so CI can
    compare it with `loglambda sql` on the same lake."""
    if isinstance(value, pd.Timestamp):
        value = value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    elif hasattr(value, "item"):
        value = value.item()  # numpy scalars
    path = os.environ.get("LOGLAMBDA_NB_FIGURES")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"name": name, "value": value}) + "\n")
    return value
