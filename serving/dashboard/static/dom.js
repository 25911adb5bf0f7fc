// loglambda dashboard, the page's shared helpers: building HTML and SVG
// elements and formatting counts, written once for app.js and the panels
// (patterns.js, clusters.js), which index.html loads after this file and
// which take what they need from window.loglambdaDOM.
"use strict";

window.loglambdaDOM = (() => {
  const SVG_NS = "http://www.w3.org/2000/svg";

  // fill sets the attributes of e and, when given, its text.
  function fill(e, attrs, text) {
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  return Object.freeze({
    // el is a new HTML element with the given attributes and text.
    el: (tag, attrs, text) => fill(document.createElement(tag), attrs, text),
    // svg is a new SVG element with the given attributes and text.
    svg: (tag, attrs, text) => fill(document.createElementNS(SVG_NS, tag), attrs, text),
    // fmtInt writes a count with thousands separators: 1,234,567.
    fmtInt: (n) => Number(n).toLocaleString("en-US"),
  });
})();
