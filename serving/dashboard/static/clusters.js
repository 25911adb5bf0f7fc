// loglambda dashboard, clusters panel: the macro-clusters of GET
// /v1/clusters drawn on their first two features (log scales, bubble area
// by count) and their counts over time. It asks for the same window as the
// rest of the page, which announces each poll with a "loglambda:poll"
// event. Every figure is also in a data-* attribute of an element with a
// stable id, for tests and scripts.
"use strict";

(() => {
  const K = 5;
  const COLORS = ["#2f6fdf", "#e07b00", "#2a9d4b", "#c2185b", "#7b52c7", "#00897b", "#8d6e63", "#546e7a"];
  const $ = (id) => document.getElementById(id);
  const { el, svg, fmtInt } = window.loglambdaDOM;
  const { getJSON } = window.loglambdaAPI;
  let seq = 0;

  function fmtNum(v, field) {
    if (!isFinite(v)) return "-";
    if (field === "bytes") {
      const units = ["B", "KiB", "MiB", "GiB"];
      let i = 0;
      while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
      }
      return (i === 0 ? Math.round(v) : v.toFixed(v < 10 ? 1 : 0)) + " " + units[i];
    }
    if (field === "latency_ms") return v < 10 ? v.toFixed(1) + " ms" : v < 10000 ? Math.round(v) + " ms" : (v / 1000).toFixed(1) + " s";
    return v < 10 ? v.toFixed(2) : fmtInt(Math.round(v));
  }

  // A log axis over [lo, hi] (values below 1 drawn at 1: log1p features).
  function logScale(lo, hi, a, b) {
    const l0 = Math.log10(Math.max(1, lo));
    let l1 = Math.log10(Math.max(1, hi));
    if (l1 - l0 < 1) l1 = l0 + 1;
    const f = (v) => a + ((Math.log10(Math.max(1, v)) - l0) / (l1 - l0)) * (b - a);
    f.ticks = [];
    for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) if (e >= l0 - 1e-9 && e <= l1 + 1e-9) f.ticks.push(Math.pow(10, e));
    return f;
  }

  function drawBubbles(ans) {
    const box = $("clusters-scatter");
    const W = 460, H = 260, L = 60, R = 12, T = 10, B = 34;
    const fx = ans.fields[0], fy = ans.fields[1];
    const cl = ans.clusters.filter((c) => c.count > 0);
    const vals = (f) => cl.flatMap((c) => (f ? [c.min[f], c.max[f], c.center[f]] : [1]));
    const xs = vals(fx), ys = vals(fy);
    const sx = logScale(Math.min(...xs), Math.max(...xs), L, W - R);
    const sy = logScale(Math.min(...ys), Math.max(...ys), H - B, T);
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `Macro-clusters by ${fx}${fy ? " and " + fy : ""}, log scales, bubble area by count` });
    for (const t of sx.ticks) {
      s.append(svg("line", { x1: sx(t), x2: sx(t), y1: T, y2: H - B, class: "grid" }));
      s.append(svg("text", { x: sx(t), y: H - B + 14, "text-anchor": "middle", class: "tick" }, fmtNum(t, fx)));
    }
    if (fy) {
      for (const t of sy.ticks) {
        s.append(svg("line", { x1: L, x2: W - R, y1: sy(t), y2: sy(t), class: "grid" }));
        s.append(svg("text", { x: L - 4, y: sy(t) + 4, "text-anchor": "end", class: "tick" }, fmtNum(t, fy)));
      }
    }
    s.append(svg("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", class: "axis-label" }, fx));
    if (fy) s.append(svg("text", { x: 12, y: (T + H - B) / 2, transform: `rotate(-90 12 ${(T + H - B) / 2})`, "text-anchor": "middle", class: "axis-label" }, fy));
    const maxN = Math.max(1, ...cl.map((c) => c.count));
    ans.clusters.forEach((c, i) => {
      if (c.count === 0) return;
      const cx = sx(c.center[fx]), cy = fy ? sy(c.center[fy]) : (T + H - B) / 2;
      const g = svg("g", {});
      if (fy) {
        // The spread: min to max on both axes, faint.
        g.append(svg("rect", { x: sx(c.min[fx]), y: sy(c.max[fy]), width: Math.max(1, sx(c.max[fx]) - sx(c.min[fx])), height: Math.max(1, sy(c.min[fy]) - sy(c.max[fy])), class: "cluster-span", fill: COLORS[i % COLORS.length] }));
      }
      const dot = svg("circle", {
        id: "cluster-dot-" + i, class: "cluster-dot", cx, cy, r: 4 + 22 * Math.sqrt(c.count / maxN),
        fill: COLORS[i % COLORS.length], "data-count": c.count,
        "data-x": c.center[fx], "data-y": fy ? c.center[fy] : "",
      });
      dot.append(svg("title", {}, `cluster ${i + 1}: ${fmtInt(c.count)} events (${(100 * c.share).toFixed(1)} %), typical ${fmtNum(c.center[fx], fx)}${fy ? " / " + fmtNum(c.center[fy], fy) : ""}`));
      g.append(dot, svg("text", { x: cx, y: cy + 4, "text-anchor": "middle", class: "cluster-label" }, String(i + 1)));
      s.append(g);
    });
    box.replaceChildren(s);
  }

  function drawCounts(ans) {
    const box = $("clusters-time");
    const W = 460, H = 200, L = 50, R = 10, T = 10, B = 26;
    const n = ans.series.length;
    const lines = ans.clusters.map((c) => c.series);
    lines.push(ans.series.map((p) => p.outliers));
    const max = Math.max(1, ...lines.flat());
    const x = (i) => L + (n <= 1 ? 0 : (i / (n - 1)) * (W - L - R));
    const y = (v) => H - B - (v / max) * (H - B - T);
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Events per macro-cluster over time" });
    for (const f of [0, 0.5, 1]) {
      s.append(svg("line", { x1: L, x2: W - R, y1: y(max * f), y2: y(max * f), class: "grid" }));
      s.append(svg("text", { x: L - 4, y: y(max * f) + 4, "text-anchor": "end", class: "tick" }, fmtInt(Math.round(max * f))));
    }
    if (n > 0) {
      const t = (i) => ans.series[i].t.slice(11, 16);
      s.append(svg("text", { x: x(0), y: H - 6, class: "tick" }, t(0)));
      s.append(svg("text", { x: x(n - 1), y: H - 6, "text-anchor": "end", class: "tick" }, t(n - 1)));
    }
    lines.forEach((vs, i) => {
      const outl = i === ans.clusters.length;
      const d = vs.map((v, j) => (j ? "L" : "M") + x(j).toFixed(1) + " " + y(v).toFixed(1)).join(" ");
      s.append(svg("path", { id: outl ? "cluster-line-outliers" : "cluster-line-" + i, d, class: outl ? "cluster-line outliers" : "cluster-line", stroke: outl ? "currentColor" : COLORS[i % COLORS.length] }));
    });
    box.replaceChildren(s);
  }

  function renderTable(ans) {
    const fields = ans.fields;
    const head = $("clusters-head");
    head.replaceChildren(el("th", { scope: "col" }, "Cluster"), el("th", { scope: "col", class: "num" }, "Events"), el("th", { scope: "col", class: "num" }, "Share"),
      ...fields.map((f) => el("th", { scope: "col", class: "num" }, f + " typical (mean ± sd; min–max)")));
    const rows = ans.clusters.map((c, i) => {
      const tr = el("tr", { id: "clusters-row-" + i, "data-count": c.count, "data-share": c.share });
      const sw = el("span", { class: "swatch" });
      sw.style.background = COLORS[i % COLORS.length];
      const name = el("td", {});
      name.append(sw, document.createTextNode(" " + (i + 1)));
      tr.append(name, el("td", { class: "num" }, fmtInt(c.count)), el("td", { class: "num" }, (100 * c.share).toFixed(1) + " %"));
      for (const f of fields) {
        tr.append(el("td", { class: "num", "data-field": f, "data-center": c.center[f] },
          `${fmtNum(c.center[f], f)} (${fmtNum(c.mean[f], f)} ± ${fmtNum(c.stddev[f], f)}; ${fmtNum(c.min[f], f)}–${fmtNum(c.max[f], f)})`));
      }
      return tr;
    });
    $("clusters-body").replaceChildren(...rows);
    const o = $("clusters-outliers");
    o.dataset.value = ans.outliers;
    o.textContent = fmtInt(ans.outliers);
    const m = $("clusters-missing");
    m.dataset.value = ans.missing;
    m.textContent = fmtInt(ans.missing);
    const badge = $("clusters-exact");
    badge.dataset.exact = String(!!ans.exact);
    badge.dataset.kind = ans.exact ? "exact" : "estimate";
    badge.textContent = ans.exact ? "all from batch" : "batch + speed, still changing";
  }

  async function update(q, step) {
    const my = ++seq;
    let ans;
    try {
      ans = await getJSON("v1/clusters?" + q + "&k=" + K + "&step=" + step + "s");
    } catch (e) {
      if (my !== seq) return;
      const empty = $("clusters-empty");
      empty.hidden = false;
      empty.textContent = "Clusters not available: " + e.message;
      return;
    }
    if (my !== seq) return;
    const have = ans.clusters && ans.clusters.some((c) => c.count > 0);
    $("clusters-body-wrap").hidden = !have;
    const empty = $("clusters-empty");
    empty.hidden = have;
    empty.textContent = have ? "" : "No events with " + (ans.fields || []).join(" or ") + " in this range.";
    const panel = $("clusters-panel");
    panel.dataset.events = ans.events;
    panel.dataset.microClusters = ans.micro_clusters;
    if (!have) return;
    drawBubbles(ans);
    drawCounts(ans);
    renderTable(ans);
  }

  document.addEventListener("loglambda:poll", (e) => update(e.detail.query, e.detail.step));
})();
