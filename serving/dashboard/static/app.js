// loglambda dashboard: polls the JSON API of the serving layer and draws it.
// Plain browser JavaScript, no dependencies, no build step. Every figure is
// also written to a data-* attribute of an element with a stable id, so that
// tests (and scripts) read numbers, not formatted text.
"use strict";

(() => {
  // Ranges offered, with about how many points: 60-100, enough to see a
  // shape. The server turns them into from, to and step (GET /v1/window),
  // by the rule every query checks, with its pane and limits.
  const RANGES = {
    "1h": { last: "1h", points: 60, label: "last 1 h" },
    "6h": { last: "6h", points: 72, label: "last 6 h" },
    "24h": { last: "24h", points: 96, label: "last 24 h" },
  };
  const POLL_MS = 5000;
  const HIDDEN_POLL_MS = 30000; // a background tab need not keep a server busy
  const HOT_K = 20;
  // The level columns of the levels table, by the level's name in upper
  // case; any other name (DEBUG, FATAL, "-" for none...) counts as other.
  const LEVEL_COLUMNS = [
    { key: "error", names: ["ERROR", "ERR"] },
    { key: "warn", names: ["WARN", "WARNING"] },
    { key: "info", names: ["INFO"] },
  ];
  const SERIES = [
    { key: "pv", label: "PV" },
    { key: "uv", label: "UV" },
    { key: "ips", label: "IPs" },
  ];

  // The panels this file draws, each from one answer for the page's
  // window: what it asks (from the range query q and the window w), how
  // it draws the answer, and its element telling the answer is missing.
  // The views' tables (below) and the panels of their own files listen to
  // the "loglambda:poll" event instead.
  const PANELS = [
    { key: "traffic", ask: (q, w) => "v1/traffic?" + q + "&step=" + w.step + "s", draw: (a) => renderTraffic(a, state.win), empty: "chart-empty" },
    { key: "hot", ask: (q) => "v1/hot?" + q + "&k=" + HOT_K, draw: (a) => renderHot(a), empty: "hot-empty" },
    { key: "levels", ask: (q, w) => "v1/levels?" + q + "&step=" + w.step + "s", draw: (a) => renderLevels(a), empty: "levels-empty" },
    { key: "alerts", ask: (q) => "v1/alerts?" + q, draw: (a) => renderAlerts(a), empty: "alerts-empty" },
  ];

  const $ = (id) => document.getElementById(id);
  const { el, svg, fmtInt } = window.loglambdaDOM;
  const { getJSON } = window.loglambdaAPI;
  window.loglambdaAPI.onDate((header) => noteServerDate(header));

  const state = {
    range: "1h",
    pinnedTo: null, // ms; null follows the server's clock
    skewMs: 0, // server clock minus ours, from the Date header
    traffic: null, // last good answers, kept on screen while the API is away
    hot: null,
    levels: null,
    alerts: null,
    status: null,
    win: null, // the window the traffic answer was asked for
    lastOk: 0,
    seq: 0,
    timer: 0,
    cursor: -1, // chart bucket under the pointer or keyboard
    notice: "", // about the page's own URL parameters
  };

  // ---- formatting -------------------------------------------------------

  function fmtBytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    let v = Number(n);
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + " " + units[i];
  }

  // Times are UTC everywhere, like the API.
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  const fmtDateTime = (ms) => iso(ms).slice(0, 16).replace("T", " ") + " UTC";
  const fmtHM = (ms) => iso(ms).slice(11, 16);
  const fmtDay = (ms) => iso(ms).slice(5, 10);

  function fmtDur(secs) {
    secs = Math.round(Math.abs(secs));
    if (secs < 60) return secs + " s";
    const m = Math.round(secs / 60);
    if (m < 60) return m + " min";
    const h = Math.floor(m / 60);
    const rm = m % 60;
    if (h < 10) return rm ? h + " h " + rm + " min" : h + " h";
    if (h < 48) return h + " h";
    return Math.round(h / 24) + " days";
  }

  function fmtAgo(ms) {
    const d = (serverNow() - ms) / 1000;
    if (Math.abs(d) < 5) return "just now";
    return d > 0 ? fmtDur(d) + " ago" : "in " + fmtDur(d);
  }

  function parseTimeParam(v) {
    if (!v) return null;
    if (/^\d+$/.test(v)) return Number(v) * 1000;
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? NaN : ms;
  }

  const serverNow = () => Date.now() + state.skewMs;

  // ---- DOM helpers ------------------------------------------------------

  function setValue(id, value, text) {
    const el = $(id);
    el.dataset.value = value === null || value === undefined ? "" : String(value);
    el.textContent = text;
    return el;
  }

  function showEmpty(id, text) {
    const e = $(id);
    e.hidden = !text;
    e.textContent = text || "";
  }

  // ---- API --------------------------------------------------------------

  // describeErrors groups the endpoints that failed the same way, so that
  // a dead server is one sentence, not three.
  function describeErrors(errors) {
    const byDetail = new Map();
    for (const e of errors) {
      const detail = e.detail || e.message;
      if (!byDetail.has(detail)) byDetail.set(detail, []);
      if (e.endpoint) byDetail.get(detail).push(e.endpoint);
    }
    return [...byDetail].map(([detail, eps]) => (eps.length ? eps.join(", ") + ": " : "") + detail).join("; ");
  }

  // The Date header has one-second resolution: only a larger difference
  // is a skewed clock worth correcting for.
  function noteServerDate(header) {
    const ms = Date.parse(header || "");
    if (Number.isNaN(ms)) return;
    const skew = ms - Date.now();
    state.skewMs = Math.abs(skew) > 2000 ? skew : 0;
  }

  // window is the range asked for: `to` aligned up to the step so buckets
  // do not slide between polls; the last bucket is the one in progress.
  async function queryWindow() {
    const r = RANGES[state.range];
    let path = "v1/window?last=" + r.last + "&points=" + r.points;
    if (state.pinnedTo !== null) path += "&to=" + encodeURIComponent(iso(state.pinnedTo));
    const w = await getJSON(path);
    return { from: Date.parse(w.from) / 1000, to: Date.parse(w.to) / 1000, step: w.step_seconds };
  }

  function rangeQuery(w) {
    return "from=" + encodeURIComponent(iso(w.from * 1000)) + "&to=" + encodeURIComponent(iso(w.to * 1000));
  }

  async function poll() {
    clearTimeout(state.timer);
    const seq = ++state.seq;
    const errors = [];
    let status = null;
    try {
      status = await getJSON("v1/status");
    } catch (e) {
      errors.push(e);
    }
    let w;
    try {
      w = await queryWindow();
    } catch (e) {
      errors.push(e);
      render(errors);
      state.timer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
      return;
    }
    if (seq !== state.seq) return;
    const q = rangeQuery(w);
    // Other panels (patterns.js) poll the same window.
    document.dispatchEvent(new CustomEvent("loglambda:window", { detail: { from: w.from, to: w.to, step: w.step } }));
    const answers = await Promise.allSettled(PANELS.map((p) => getJSON(p.ask(q, w))));
    if (seq !== state.seq) return; // a newer poll (range change) owns the page
    // Panels in files of their own (clusters.js) and the views' tables
    // poll the same window.
    document.dispatchEvent(new CustomEvent("loglambda:poll", { detail: { query: q, step: w.step } }));
    if (status) state.status = status;
    answers.forEach((a, i) => {
      if (a.status !== "fulfilled") return errors.push(a.reason);
      state[PANELS[i].key] = a.value;
      if (PANELS[i].key === "traffic") state.win = w;
    });
    if (errors.length === 0) state.lastOk = Date.now();
    render(errors);
    state.timer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  }

  // ---- rendering --------------------------------------------------------

  function render(errors) {
    renderConn(errors);
    if (state.status) renderStatus(state.status);
    for (const p of PANELS) {
      if (state[p.key]) p.draw(state[p.key]);
      else if (errors.length) showEmpty(p.empty, p.key === "alerts" ? "No alerts yet: the API did not answer." : "No figures yet: the API did not answer.");
    }
    if (!state.status && errors.length) showEmpty("partitions-empty", "No figures yet: the API did not answer.");
  }

  // renderAlerts lists the firing and pending alerts first, then the
  // resolved ones of the range; a notification that failed for good is
  // marked, with its error as the title.
  function renderAlerts(ans) {
    const list = (ans.alerts || []).slice();
    const rank = { firing: 0, pending: 1, resolved: 2 };
    list.sort((a, b) => (rank[a.state] ?? 3) - (rank[b.state] ?? 3) || (a.active_since < b.active_since ? 1 : -1));
    const badge = $("alerts-active");
    badge.dataset.active = String(ans.active || 0);
    badge.dataset.kind = ans.active ? "firing" : "exact";
    badge.textContent = ans.active ? ans.active + " active" : list.length ? "none active" : "";
    const trs = list.map((a) => {
      const labels = Object.entries(a.labels || {})
        .filter(([k]) => k !== "alertname")
        .sort()
        .map(([k, v]) => k + "=" + v)
        .join(" ");
      const failed = (a.deliveries || []).filter((d) => d.state === "failed");
      const notes = (a.deliveries || []).map((d) => d.notifier + " " + d.status + ": " + d.state).join(", ");
      const tr = el("tr", { "data-state": a.state, "data-rule": a.rule, "data-fingerprint": a.fingerprint, "data-failed": failed.length });
      const delivered = el("td", { class: failed.length ? "failed" : "" }, notes || "none");
      if (failed.length) delivered.title = failed.map((d) => d.notifier + ": " + (d.last_error || "")).join("\n");
      tr.append(
        el("td", { class: "state " + a.state }, a.state),
        el("td", {}, a.rule),
        el("td", { class: "inst" }, labels),
        el("td", {}, (a.annotations && a.annotations.summary) || ""),
        el("td", { class: "num" }, fmtInt(Math.round(a.value))),
        el("td", {}, fmtUTC(a.fired_at || a.active_since)),
        el("td", {}, a.resolved_at ? fmtUTC(a.resolved_at) : ""),
        delivered,
      );
      return tr;
    });
    $("alerts-body").replaceChildren(...trs);
    $("alerts-table").hidden = trs.length === 0;
    showEmpty("alerts-empty", trs.length ? "" : "No alerts in this range (GET v1/rules lists the rules).");
  }

  const fmtUTC = (s) => (s ? s.replace("T", " ").replace(/(:\d\d)(\.\d+)?Z$/, "$1") : "");

  function renderConn(errors) {
    const conn = $("conn");
    const banner = $("banner");
    document.body.classList.toggle("stale", errors.length > 0 && state.lastOk > 0);
    if (errors.length) {
      const unreachable = errors.some((e) => !e.status);
      conn.dataset.state = "error";
      $("conn-text").textContent = unreachable ? "API unreachable, retrying" : "API error, retrying";
      banner.hidden = false;
      banner.dataset.kind = "error";
      banner.textContent = "";
      banner.append(
        el("strong", {}, unreachable ? "Cannot reach the loglambda API. " : "The loglambda API answered with an error. "),
        document.createTextNode(
          describeErrors(errors) +
            ". Retrying every " + POLL_MS / 1000 + " s" +
            (state.lastOk ? "; the figures below are from " + fmtHM(state.lastOk) + " (local time of this browser)." : "."),
        ),
      );
      return;
    }
    conn.dataset.state = "ok";
    const pinned = state.pinnedTo !== null;
    $("conn-text").textContent = (pinned ? "Pinned" : "Live") + " · updated " + new Date(state.lastOk).toTimeString().slice(0, 8);
    if (state.status && !state.status.refreshed) {
      banner.hidden = false;
      banner.dataset.kind = "info";
      banner.textContent = "The server has not loaded its views from MongoDB yet; the figures appear after its first refresh.";
    } else {
      banner.hidden = true;
      banner.dataset.kind = "";
      banner.textContent = "";
    }
  }

  function renderTraffic(tr, w) {
    const t = tr.total || { pv: 0, uv: 0, ips: 0 };
    setValue("total-pv", t.pv, fmtInt(t.pv));
    setValue("total-uv", t.uv, fmtInt(t.uv));
    setValue("total-ips", t.ips, fmtInt(t.ips));
    $("total-pv-note").textContent = tr.exact ? "exact, all from batch" : "counted, batch + speed";
    const est = "HyperLogLog estimate, ±0.8 %";
    $("total-uv-note").textContent = est;
    $("total-ips-note").textContent = est;
    $("range-label").textContent = RANGES[state.range].label;
    $("step-label").textContent = fmtDur(w.step);

    const horizon = tr.batch_horizon ? Date.parse(tr.batch_horizon) : null;
    renderHorizon(tr.batch_horizon, horizon);
    renderSplit(horizon, w);
    renderSeriesTable(tr.series || [], horizon);
    if (!t.pv) {
      $("chart").replaceChildren();
      $("chart").setAttribute("aria-label", "Traffic chart: no traffic in this range");
      $("chart-readout").textContent = "";
      showEmpty(
        "chart-empty",
        "No traffic in this range yet. Logs shipped to Kafka (loglambda ship, or loglambda up --demo) appear here within seconds.",
      );
      return;
    }
    showEmpty("chart-empty", "");
    drawChart(tr.series || [], w, horizon);
  }

  function renderHorizon(raw, ms) {
    for (const id of ["horizon", "status-horizon"]) {
      setValue(id, raw || "", ms === null ? "none yet" : fmtDateTime(ms));
    }
    $("horizon-note").textContent = ms === null ? "batch has not recomputed any hour" : fmtAgo(ms);
  }

  function renderSplit(h, w) {
    const split = $("chart-split");
    let kind;
    let text;
    if (h === null) {
      kind = "speed";
      text = "All from speed: batch has not recomputed any hour yet.";
    } else if (h <= w.from * 1000) {
      kind = "speed";
      text = "All from speed: the batch horizon " + fmtDateTime(h) + " is before this range.";
    } else if (h >= w.to * 1000) {
      kind = "batch";
      text = "All from batch: exact views up to the horizon " + fmtDateTime(h) + ".";
    } else {
      kind = "both";
      text = "Batch before the horizon " + fmtHM(h) + " UTC, speed after it.";
    }
    split.dataset.split = kind;
    split.textContent = text;
  }

  function renderSeriesTable(series, horizon) {
    const rows = series.map((p) => {
      const t = Date.parse(p.t);
      const layer = horizon !== null && t < horizon ? "batch" : "speed";
      const tr = el("tr", { "data-t": p.t, "data-pv": p.pv, "data-uv": p.uv, "data-ips": p.ips });
      tr.append(
        el("td", {}, fmtDateTime(t)),
        el("td", {}, layer),
        el("td", { class: "num" }, fmtInt(p.pv)),
        el("td", { class: "num" }, fmtInt(p.uv)),
        el("td", { class: "num" }, fmtInt(p.ips)),
      );
      return tr;
    });
    $("series-body").replaceChildren(...rows);
  }

  // niceMax rounds up to 1, 2, 2.5 or 5 times a power of ten, so that the
  // gridline labels are round numbers.
  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function shortNum(v) {
    if (v >= 1e6) return +(v / 1e6).toFixed(1) + "M";
    if (v >= 1e4) return +(v / 1e3).toFixed(1) + "k";
    return String(v);
  }

  // drawChart draws one small panel per series (each on its own scale: PV
  // is often a hundred times UV), sharing the time axis and the horizon.
  function drawChart(series, w, horizon) {
    const box = $("chart");
    const width = Math.max(320, Math.floor(box.clientWidth || 800));
    const m = { left: 84, right: 16, top: 26, bottom: 28 };
    const panelH = 76;
    const gap = 26;
    const height = m.top + SERIES.length * panelH + (SERIES.length - 1) * gap + m.bottom;
    const plotW = width - m.left - m.right;
    const span = w.to - w.from;
    const x = (secs) => m.left + ((secs - w.from) / span) * plotW;
    const pts = series.map((p) => ({ t: Date.parse(p.t) / 1000, p }));
    const mid = (t) => x(Math.min(Math.max(t + w.step / 2, w.from), w.to));

    const root = svg("svg", { width, height, viewBox: "0 0 " + width + " " + height, class: "chart-svg", "aria-hidden": "true" });

    // Batch side shading, then the horizon line over everything.
    const hx = horizon !== null && horizon / 1000 > w.from && horizon / 1000 < w.to ? x(horizon / 1000) : null;
    const plotTop = m.top;
    const plotBottom = height - m.bottom;
    if (horizon !== null && horizon / 1000 > w.from) {
      const right = hx === null ? m.left + plotW : hx;
      root.append(svg("rect", { class: "batch-region", x: m.left, y: plotTop - 4, width: right - m.left, height: plotBottom - plotTop + 4 }));
    }

    SERIES.forEach((s, i) => {
      const top = m.top + i * (panelH + gap);
      const bottom = top + panelH;
      const vmax = niceMax(Math.max(0, ...series.map((p) => p[s.key] || 0)));
      const y = (v) => bottom - (v / vmax) * panelH;
      const g = svg("g", { class: "panel-" + s.key });
      for (const v of [0, vmax / 2, vmax]) {
        g.append(svg("line", { class: "grid", x1: m.left, x2: m.left + plotW, y1: y(v), y2: y(v) }));
        g.append(svg("text", { class: "ylabel", x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, shortNum(v)));
      }
      g.append(svg("text", { class: "series-name", x: 4, y: top + panelH / 2 + 4 }, s.label));
      if (pts.length) {
        const line = pts.map((q, j) => (j ? "L" : "M") + mid(q.t).toFixed(1) + " " + y(q.p[s.key] || 0).toFixed(1)).join(" ");
        const area = line + " L" + mid(pts[pts.length - 1].t).toFixed(1) + " " + bottom + " L" + mid(pts[0].t).toFixed(1) + " " + bottom + " Z";
        g.append(svg("path", { class: "area", d: area }));
        g.append(svg("path", { class: "line", d: line }));
      }
      root.append(g);
    });

    // Time axis: a label at most every 90 px, on round clock times.
    const minTick = span / Math.max(1, Math.floor(plotW / 90));
    const tick = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].find((d) => d >= minTick) || 86400;
    const axis = svg("g", { class: "xaxis" });
    axis.append(svg("line", { class: "axis", x1: m.left, x2: m.left + plotW, y1: plotBottom, y2: plotBottom }));
    let lastDay = "";
    for (let t = Math.ceil(w.from / tick) * tick; t <= w.to; t += tick) {
      const day = fmtDay(t * 1000);
      const label = fmtHM(t * 1000) + (day !== lastDay && span > 6 * 3600 && lastDay ? " " + day : "");
      lastDay = day;
      axis.append(svg("line", { class: "tick", x1: x(t), x2: x(t), y1: plotBottom, y2: plotBottom + 4 }));
      axis.append(svg("text", { class: "xlabel", x: x(t), y: plotBottom + 17, "text-anchor": "middle" }, label));
    }
    root.append(axis);

    if (hx !== null) {
      const hg = svg("g", { class: "horizon", "data-horizon": iso(horizon) });
      hg.append(svg("line", { class: "horizon-line", x1: hx, x2: hx, y1: plotTop - 16, y2: plotBottom }));
      hg.append(svg("text", { class: "horizon-label batch", x: hx - 6, y: plotTop - 8, "text-anchor": "end" }, "◀ batch"));
      hg.append(svg("text", { class: "horizon-label speed", x: hx + 6, y: plotTop - 8, "text-anchor": "start" }, "speed ▶"));
      hg.append(svg("title", {}, "batch horizon " + fmtDateTime(horizon)));
      root.append(hg);
    } else {
      const label = horizon !== null && horizon / 1000 >= w.to ? "batch" : "speed";
      root.append(svg("text", { class: "horizon-label " + label, x: m.left + plotW, y: plotTop - 8, "text-anchor": "end" }, "all " + label));
    }

    // Cursor: crosshair and per-series dots for the bucket under the
    // pointer (or chosen with the arrow keys).
    const cursor = svg("g", { class: "cursor", visibility: "hidden" });
    const cline = svg("line", { class: "cursor-line", y1: plotTop, y2: plotBottom });
    cursor.append(cline);
    const dots = SERIES.map((s) => {
      const d = svg("circle", { class: "dot-" + s.key, r: 3.5 });
      cursor.append(d);
      return d;
    });
    root.append(cursor);

    const showCursor = (j) => {
      if (j < 0 || j >= pts.length) {
        cursor.setAttribute("visibility", "hidden");
        $("chart-readout").textContent = "";
        return;
      }
      state.cursor = j;
      const q = pts[j];
      const cx = mid(q.t);
      cline.setAttribute("x1", cx);
      cline.setAttribute("x2", cx);
      SERIES.forEach((s, i) => {
        const top = m.top + i * (panelH + gap);
        const vmax = niceMax(Math.max(0, ...series.map((p) => p[s.key] || 0)));
        dots[i].setAttribute("cx", cx);
        dots[i].setAttribute("cy", top + panelH - ((q.p[s.key] || 0) / vmax) * panelH);
      });
      cursor.setAttribute("visibility", "visible");
      const layer = horizon !== null && q.t * 1000 < horizon ? "batch" : "speed";
      $("chart-readout").textContent =
        fmtHM(q.t * 1000) + "–" + fmtHM((q.t + w.step) * 1000) + " UTC (" + layer + ")   PV " + fmtInt(q.p.pv) +
        "   UV " + fmtInt(q.p.uv) + "   IPs " + fmtInt(q.p.ips);
    };
    const nearest = (px) => {
      let best = -1;
      let bestD = Infinity;
      pts.forEach((q, j) => {
        const d = Math.abs(mid(q.t) - px);
        if (d < bestD) {
          bestD = d;
          best = j;
        }
      });
      return best;
    };
    root.addEventListener("pointermove", (ev) => {
      const r = root.getBoundingClientRect();
      showCursor(nearest(((ev.clientX - r.left) * width) / r.width));
    });
    root.addEventListener("pointerleave", () => showCursor(-1));
    box.onkeydown = (ev) => {
      if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
      ev.preventDefault();
      const j = state.cursor < 0 ? pts.length - 1 : state.cursor + (ev.key === "ArrowLeft" ? -1 : 1);
      showCursor(Math.min(pts.length - 1, Math.max(0, j)));
    };

    box.replaceChildren(root);
    if (state.cursor >= 0 && state.cursor < pts.length) showCursor(state.cursor);
    const peak = pts.reduce((a, q) => (q.p.pv > a.p.pv ? q : a), pts[0]);
    box.setAttribute(
      "aria-label",
      "Traffic chart per " + fmtDur(w.step) + " from " + fmtDateTime(w.from * 1000) + " to " + fmtDateTime(w.to * 1000) +
        "; peak " + fmtInt(peak.p.pv) + " page views at " + fmtHM(peak.t * 1000) + " UTC. Arrow keys step through the buckets.",
    );
  }

  function renderHot(hot) {
    const terms = hot.terms || [];
    const badge = $("hot-exact");
    badge.dataset.exact = String(!!hot.exact);
    badge.dataset.errorBound = String(hot.error_bound || 0);
    badge.dataset.kind = hot.exact ? "exact" : "estimate";
    badge.textContent = !terms.length
      ? ""
      : hot.exact
        ? "exact, all from batch"
        : hot.error_bound
          ? "estimated, error bound ± " + fmtInt(hot.error_bound)
          : "exact counts, batch + speed";
    badge.title = hot.error_bound
      ? "Speed keeps bounded summaries: a listed count exceeds the truth by at most its own ±, and a term not listed occurred at most " +
        fmtInt(hot.error_bound) + " times."
      : "";
    const top = terms.length ? terms[0].count : 0;
    const rows = terms.map((t, i) => {
      const err = t.err || 0;
      const tr = el("tr", {
        id: "hot-row-" + (i + 1),
        "data-rank": i + 1,
        "data-term": t.term,
        "data-count": t.count,
        "data-err": err,
      });
      const termCell = el("td", { class: "term" });
      const bar = el("span", { class: "bar", "aria-hidden": "true" });
      bar.style.width = (top ? (100 * t.count) / top : 0).toFixed(1) + "%";
      termCell.append(bar, el("span", { class: "term-text" }, t.term));
      tr.append(
        el("td", { class: "num rank" }, String(i + 1)),
        termCell,
        el("td", { class: "num count" }, fmtInt(t.count)),
        el("td", { class: "num acc" + (err ? " approx" : "") }, err ? "± " + fmtInt(err) : "exact"),
      );
      return tr;
    });
    $("hot-body").replaceChildren(...rows);
    $("hot-table").hidden = rows.length === 0;
    showEmpty("hot-empty", rows.length ? "" : "No search terms in this range.");
  }

  // levelRow sums an instance's counts into the table's columns.
  function levelRow(instance, per) {
    const row = { instance, error: 0, warn: 0, info: 0, other: 0, total: 0, others: [] };
    for (const [level, n] of Object.entries(per || {})) {
      const col = LEVEL_COLUMNS.find((c) => c.names.includes(level.toUpperCase()));
      if (col) row[col.key] += n;
      else {
        row.other += n;
        row.others.push(level + " " + fmtInt(n));
      }
      row.total += n;
    }
    return row;
  }

  // levelsRowID makes an instance name usable in an id: characters other
  // than letters, digits, "_", ".", ":" and "-" become "_" (data-instance
  // keeps the name as it is).
  const levelsRowID = (instance) => "levels-row-" + instance.replace(/[^A-Za-z0-9_.:-]/g, "_");

  function renderLevels(lv) {
    const badge = $("levels-exact");
    const rows = Object.entries(lv.total || {})
      .map(([inst, per]) => levelRow(inst, per))
      .sort((a, b) => b.error - a.error || b.warn - a.warn || b.total - a.total || (a.instance < b.instance ? -1 : 1));
    badge.dataset.exact = String(!!lv.exact);
    badge.dataset.kind = lv.exact ? "exact" : "estimate";
    badge.textContent = rows.length ? (lv.exact ? "exact, all from batch" : "batch + speed, still changing") : "";
    const trs = rows.map((r) => {
      const tr = el("tr", {
        id: levelsRowID(r.instance),
        "data-instance": r.instance,
        "data-error": r.error,
        "data-warn": r.warn,
        "data-info": r.info,
        "data-other": r.other,
        "data-total": r.total,
      });
      const other = el("td", { class: "num" }, fmtInt(r.other));
      if (r.others.length) other.title = r.others.join(", ");
      tr.append(
        el("td", { class: "inst" }, r.instance),
        el("td", { class: "num" + (r.error ? " error" : "") }, fmtInt(r.error)),
        el("td", { class: "num" + (r.warn ? " warn-level" : "") }, fmtInt(r.warn)),
        el("td", { class: "num" }, fmtInt(r.info)),
        other,
        el("td", { class: "num total" }, fmtInt(r.total)),
      );
      return tr;
    });
    $("levels-body").replaceChildren(...trs);
    $("levels-table").hidden = trs.length === 0;
    showEmpty("levels-empty", trs.length ? "" : "No events in this range.");
  }

  function renderStatus(st) {
    setValue("topic", st.topic, st.topic);
    const parts = st.partitions || [];
    // lag is null when the server reads no broker (lag_unknown says why).
    const lag = parts.reduce((a, p) => a + (p.lag || 0), 0);
    if (st.lag_unknown) {
      setValue("status-lag", "", "unknown");
      $("status-lag").title = st.lag_unknown;
    } else {
      setValue("status-lag", lag, parts.length ? fmtInt(lag) : "no partition yet");
      $("status-lag").title = "";
    }
    $("status-lag").classList.toggle("warn", !!st.lag_unknown || lag > 10000);
    setValue("status-events", st.events, fmtInt(st.events || 0));
    setValue("status-late-dropped", st.late_dropped, fmtInt(st.late_dropped || 0));
    setValue("status-parse-errors", st.parse_errors, fmtInt(st.parse_errors || 0));
    $("status-late-dropped").classList.toggle("warn", (st.late_dropped || 0) > 0);
    $("status-parse-errors").classList.toggle("warn", (st.parse_errors || 0) > 0);
    if (!state.traffic) {
      renderHorizon(st.batch_horizon, st.batch_horizon ? Date.parse(st.batch_horizon) : null);
    }

    const lake = $("lake-size");
    if (st.lake) {
      const l = st.lake;
      lake.dataset.bytes = String(l.bytes ?? "");
      lake.dataset.rows = String(l.rows ?? "");
      lake.dataset.files = String(l.files ?? "");
      let text = fmtBytes(l.bytes || 0) + " · " + fmtInt(l.rows || 0) + " rows · " + fmtInt(l.files || 0) + " files";
      if (l.lost_offsets) text += " · " + fmtInt(l.lost_offsets) + " offsets lost";
      lake.textContent = text;
    } else {
      lake.dataset.bytes = lake.dataset.rows = lake.dataset.files = "";
      lake.textContent = "no lake summary yet (batch has not run)";
    }
    const panes = $("status-panes");
    panes.dataset.batch = String(st.batch_panes || 0);
    panes.dataset.speed = String(st.speed_panes || 0);
    panes.textContent = fmtInt(st.batch_panes || 0) + " batch · " + fmtInt(st.speed_panes || 0) + " speed";
    const refreshed = $("status-refreshed");
    refreshed.dataset.value = st.refreshed || "";
    refreshed.textContent = st.refreshed ? "views refreshed " + fmtAgo(Date.parse(st.refreshed)) : "views not loaded yet";

    const rows = parts.map((p) => {
      const tr = el("tr", {
        id: "partition-" + p.partition,
        "data-partition": p.partition,
        "data-lag": p.lag === null ? "" : p.lag,
        "data-offset": p.offset,
        "data-high-watermark": p.high_watermark,
        "data-watermark": p.watermark || "",
        "data-late-dropped": p.late_dropped,
        "data-parse-errors": p.parse_errors,
        "data-events": p.events,
      });
      const lagCell = el("td", { class: "num" + (p.lag > 10000 ? " warn" : "") }, p.lag === null ? "unknown" : fmtInt(p.lag));
      lagCell.title = "offset " + fmtInt(p.offset) + " of " + fmtInt(p.high_watermark);
      const wm = p.watermark ? Date.parse(p.watermark) : null;
      tr.append(
        el("td", { class: "num" }, String(p.partition)),
        lagCell,
        el("td", { class: "nowrap" }, wm === null ? "none yet" : fmtHM(wm) + " · " + fmtAgo(wm)),
        el("td", { class: "num" + (p.late_dropped ? " warn" : "") }, fmtInt(p.late_dropped)),
        el("td", { class: "num" + (p.parse_errors ? " warn" : "") }, fmtInt(p.parse_errors)),
        el("td", { class: "num" }, fmtInt(p.events)),
      );
      return tr;
    });
    $("partitions-body").replaceChildren(...rows);
    $("partitions-table").hidden = rows.length === 0;
    showEmpty("partitions-empty", rows.length ? "" : "Speed has not checkpointed any partition of this topic yet.");
  }

  // ---- controls and start -------------------------------------------------

  function syncControls() {
    for (const b of document.querySelectorAll("[data-range]")) {
      b.setAttribute("aria-pressed", String(b.dataset.range === state.range));
    }
    $("range-label").textContent = RANGES[state.range].label;
    const pinned = $("pinned");
    if (state.pinnedTo === null) {
      pinned.hidden = !state.notice;
      pinned.textContent = state.notice;
      return;
    }
    pinned.hidden = false;
    pinned.textContent = "Showing " + RANGES[state.range].label.replace("last ", "") + " up to " + fmtDateTime(state.pinnedTo) + ", not following the clock. ";
    pinned.append(el("a", { href: "?range=" + state.range }, "Back to live"));
  }

  function start() {
    const params = new URLSearchParams(location.search);
    if (RANGES[params.get("range")]) state.range = params.get("range");
    const to = parseTimeParam(params.get("to"));
    if (Number.isNaN(to)) {
      state.notice = "Ignoring to=" + params.get("to") + ": not an RFC 3339 time or Unix seconds; following the clock.";
    } else {
      state.pinnedTo = to;
    }
    for (const b of document.querySelectorAll("[data-range]")) {
      b.addEventListener("click", () => {
        state.range = b.dataset.range;
        state.cursor = -1;
        const p = new URLSearchParams(location.search);
        p.set("range", state.range);
        history.replaceState(null, "", "?" + p.toString());
        syncControls();
        poll();
      });
    }
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) poll();
    });
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => state.traffic && renderTraffic(state.traffic, state.win), 150);
    });
    syncControls();
    poll();
  }

  start();
})();

// The views' tables: every view that GET /v1/views gives a panel (the
// serving layer's table of the views: title, rows, columns) gets a
// section of its own, asked for the page's window at each poll (the
// "loglambda:poll" event), so a new view's table needs no change here.
// Rows have ids <view>-row-<i> and the raw values of the columns with an
// attr in data-* attributes; the badge <view>-exact says how many rows the
// range holds and whether all came from batch.
(() => {
  const { el, fmtInt } = window.loglambdaDOM;
  const { getJSON } = window.loglambdaAPI;
  const FORMATS = {
    text: String,
    int: fmtInt,
    ms: (v) => (v < 10 ? v.toFixed(1) : String(Math.round(v))) + " ms",
    bytes: (v) => (v < 1024 ? Math.round(v) + " B" : v < 1048576 ? (v / 1024).toFixed(1) + " KiB" : (v / 1048576).toFixed(1) + " MiB"),
  };
  const field = (row, path) => path.split(".").reduce((v, k) => (v == null ? v : v[k]), row);

  function viewTable(name, p) {
    const body = el("tbody", { id: name + "-body" });
    const table = el("table", { id: name + "-table", class: "paths", hidden: "" });
    table.append(el("caption", { class: "sr-only" }, p.caption), el("thead"), body);
    const head = el("tr");
    p.columns.forEach((c, i) => head.append(el("th", { scope: "col", class: i ? "num" : "" }, c.label)));
    table.tHead.append(head);
    const badge = el("p", { id: name + "-exact", class: "badge", "data-exact": "" });
    const empty = el("p", { id: name + "-empty", class: "empty", hidden: "" });
    const h = el("div", { class: "panel-head" });
    h.append(el("h2", { id: name + "-h" }, p.title), badge);
    const scroll = el("div", { class: "scroll" });
    scroll.append(table);
    const section = el("section", { class: "panel", id: name + "-panel", "aria-labelledby": name + "-h" });
    section.append(h, scroll, empty);
    document.getElementById("main").append(section);

    function render(ans) {
      const rows = (ans[p.rows] || []).map((r, i) => {
        const attrs = { id: name + "-row-" + i };
        for (const c of p.columns) if (c.attr) attrs["data-" + c.attr] = field(r, c.field);
        const tr = el("tr", attrs);
        p.columns.forEach((c, j) => {
          const v = field(r, c.field);
          const text = c.unless && !field(r, c.unless) ? "-" : FORMATS[c.format](v);
          tr.append(el("td", { class: j ? "num" : "path" }, text));
        });
        return tr;
      });
      body.replaceChildren(...rows);
      table.hidden = rows.length === 0;
      badge.dataset.exact = String(!!ans.exact);
      badge.dataset.kind = ans.exact ? "exact" : "estimate";
      const total = p.total ? fmtInt(ans[p.total]) + " " + p.total_label : "";
      const bound = ans.relative_error ? "quantiles within " + Math.round(ans.relative_error * 100) + " %" : "";
      const all = ans.exact ? "all from batch" : "";
      badge.textContent = rows.length ? [total, bound, all].filter(Boolean).join("; ") : "";
      empty.hidden = rows.length > 0;
      empty.textContent = rows.length ? "" : p.empty;
    }

    let seq = 0;
    return async (detail) => {
      const mine = ++seq;
      try {
        const ans = await getJSON("v1/" + name + "?" + detail.query + (p.k ? "&k=" + p.k : ""));
        if (mine === seq) render(ans);
      } catch (err) {
        if (mine === seq && table.hidden) {
          empty.hidden = false;
          empty.textContent = "No figures yet: " + err.message;
        }
      }
    };
  }

  // The tables are built once GET /v1/views answers; a poll before that
  // is answered when they are.
  let last = null;
  let polls = [];
  document.addEventListener("loglambda:poll", (e) => {
    last = e.detail;
    polls.forEach((poll) => poll(e.detail));
  });
  (async function load() {
    try {
      const { views } = await getJSON("v1/views");
      polls = views.filter((v) => v.panel).map((v) => viewTable(v.name, v.panel));
      if (last) polls.forEach((poll) => poll(last));
    } catch {
      setTimeout(load, 5000);
    }
  })();
})();
