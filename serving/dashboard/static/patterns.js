// loglambda dashboard, patterns panel: the top log patterns of the window
// app.js polls (it announces each window with a "loglambda:window" event),
// with a sparkline of their count per step, new ones marked, a level
// filter, and an example line for the selected pattern. Like app.js, every
// figure is also in a data-* attribute with a stable id, for tests.
//
// URL parameters: level=ERROR preselects the filter, pattern=<id> selects
// a pattern (its example is shown), so a view can be linked to.
"use strict";

(() => {
  const K = 15;
  const $ = (id) => document.getElementById(id);
  const { el, svg, fmtInt } = window.loglambdaDOM;
  const { getJSON } = window.loglambdaAPI;
  const params = new URLSearchParams(location.search);
  const st = { win: null, level: params.get("level") || "", selected: params.get("pattern") || "", ans: null, seq: 0 };

  const iso = (secs) => new Date(secs * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

  function empty(text) {
    const p = $("patterns-empty");
    p.hidden = !text;
    p.textContent = text;
  }

  async function fetchPatterns() {
    if (!st.win) return;
    const seq = ++st.seq;
    const w = st.win;
    let q = "from=" + encodeURIComponent(iso(w.from)) + "&to=" + encodeURIComponent(iso(w.to)) + "&step=" + w.step + "s&k=" + K;
    if (st.level) q += "&level=" + encodeURIComponent(st.level);
    try {
      const body = await getJSON("v1/patterns?" + q);
      if (seq !== st.seq) return;
      st.ans = body;
      render();
    } catch (e) {
      if (seq !== st.seq) return;
      if (!st.ans) empty("No patterns yet: " + e.message);
    }
  }

  // sparkline draws counts as a small polyline, scaled to its own maximum.
  function sparkline(series) {
    const W = 120;
    const H = 24;
    const max = Math.max(1, ...series);
    const n = series.length;
    const pts = series.map((v, i) => (n > 1 ? (i * W) / (n - 1) : W / 2).toFixed(1) + "," + (H - 2 - (v / max) * (H - 4)).toFixed(1));
    const spark = svg("svg", { class: "spark", width: W, height: H, viewBox: "0 0 " + W + " " + H, "aria-hidden": "true" });
    spark.append(svg("polyline", { points: pts.join(" ") }));
    return spark;
  }

  function change(p) {
    if (p.new) return el("span", { class: "new-badge" }, "new");
    if (p.change_pct === null || p.change_pct === undefined) return document.createTextNode("");
    const v = Math.round(p.change_pct);
    return el("span", { class: v > 0 ? "up" : v < 0 ? "down" : "" }, (v > 0 ? "+" : "") + v + " %");
  }

  function render() {
    const a = st.ans;
    const badge = $("patterns-exact");
    badge.dataset.exact = String(!!a.exact);
    badge.dataset.total = a.total;
    badge.textContent = fmtInt(a.total) + " lines" + (a.exact ? ", exact, all from batch" : ", batch + speed");
    const trs = (a.patterns || []).map((p, i) => {
      const tr = el("tr", {
        id: "pattern-row-" + (i + 1),
        "data-pattern": p.pattern,
        "data-template": p.template,
        "data-count": p.count,
        "data-new": String(!!p.new),
        "data-series": (p.series || []).join(","),
        tabindex: "0",
        "aria-selected": String(p.pattern === st.selected),
      });
      const tmpl = el("td", { class: "tmpl" });
      tmpl.append(el("code", {}, p.template));
      if (p.new) tmpl.append(" ", el("span", { class: "new-badge", title: "no line of this kind in the previous " + a.step }, "new"));
      const trend = el("td", { class: "trend" });
      trend.append(sparkline(p.series || []));
      const ch = el("td", { class: "num" });
      ch.append(change(p));
      tr.append(
        el("td", { class: "num rank" }, String(i + 1)),
        tmpl,
        trend,
        el("td", { class: "num count" }, fmtInt(p.count)),
        el("td", { class: "num" }, (p.share * 100).toFixed(1) + " %"),
        ch,
      );
      const pick = () => {
        st.selected = st.selected === p.pattern ? "" : p.pattern;
        const u = new URLSearchParams(location.search);
        if (st.selected) u.set("pattern", st.selected);
        else u.delete("pattern");
        history.replaceState(null, "", "?" + u.toString());
        render();
      };
      tr.addEventListener("click", pick);
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          pick();
        }
      });
      return tr;
    });
    $("patterns-body").replaceChildren(...trs);
    $("patterns-table").hidden = trs.length === 0;
    empty(trs.length ? "" : "No log lines in this range" + (st.level ? " at level " + st.level : "") + ".");
    const ex = $("patterns-example");
    const sel = (a.patterns || []).find((p) => p.pattern === st.selected);
    ex.hidden = !sel;
    ex.dataset.pattern = sel ? sel.pattern : "";
    if (sel) {
      const where = el("p", { class: "muted" }, "Example line, Kafka partition " + sel.example.partition + " offset " + sel.example.offset +
        " (in the lake: partition = " + sel.example.partition + " AND \"offset\" = " + sel.example.offset + "); first seen " +
        sel.first_seen + ", last seen " + sel.last_seen);
      const pre = el("pre", { id: "patterns-example-line", "data-partition": sel.example.partition, "data-offset": sel.example.offset }, sel.example.line);
      ex.replaceChildren(el("h3", {}, sel.template), where, pre);
    }
  }

  document.addEventListener("loglambda:window", (e) => {
    st.win = e.detail;
    fetchPatterns();
  });
  document.addEventListener("DOMContentLoaded", () => {
    const sel = $("patterns-level");
    sel.value = st.level;
    if (sel.value !== st.level) {
      sel.append(el("option", { value: st.level }, st.level));
      sel.value = st.level;
    }
    sel.addEventListener("change", () => {
      st.level = sel.value;
      const u = new URLSearchParams(location.search);
      if (st.level) u.set("level", st.level);
      else u.delete("level");
      history.replaceState(null, "", "?" + u.toString());
      fetchPatterns();
    });
  });
})();
