// loglambda dashboard, the API client: every panel (app.js, patterns.js,
// clusters.js) asks the serving layer through getJSON, so each request
// carries the bearer token when the server requires one, a refused token
// is asked for once for all of them, and every failure reads the same way
// (the endpoint, the HTTP status, the server's error text).
"use strict";

window.loglambdaAPI = (() => {
  const FETCH_TIMEOUT_MS = 10000;
  const dateListeners = [];

  class APIError extends Error {
    constructor(path, status, msg) {
      const endpoint = path.split("?")[0];
      const detail = status ? "HTTP " + status + ": " + msg : msg;
      super(endpoint + ": " + detail);
      this.endpoint = endpoint;
      this.detail = detail;
      this.status = status;
    }
  }

  // The API's bearer token when the server requires one (serve
  // --api-tokens-file): asked for once, on the first 401, and kept in
  // sessionStorage, so it lasts while the tab is open and is not written
  // to disk. A refused token is forgotten and asked for again.
  const TOKEN_KEY = "loglambda.token";
  let tokenAsk = null; // the prompt in progress, shared by parallel requests
  let tokenDeclined = false; // cancelled: the polls show the 401, no more prompts

  function storedToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (_) {
      return "";
    }
  }

  function askToken(refused) {
    if (!tokenAsk) {
      tokenAsk = Promise.resolve().then(() => {
        if (refused === storedToken() && !tokenDeclined) {
          const t = window.prompt("This loglambda API requires a token (scope read or higher):", "");
          tokenDeclined = !t;
          try {
            if (t) sessionStorage.setItem(TOKEN_KEY, t.trim());
            else sessionStorage.removeItem(TOKEN_KEY);
          } catch (_) {
            /* storage disabled: the token lasts until the next 401 */
          }
        }
        return storedToken();
      }).finally(() => {
        tokenAsk = null;
      });
    }
    return tokenAsk;
  }

  async function getJSON(path) {
    let resp = await fetchOnce(path, storedToken());
    if (resp.resp && resp.resp.status === 401) {
      const sent = resp.token;
      const token = await askToken(sent);
      if (token && token !== sent) resp = await fetchOnce(path, token);
    }
    return readJSON(path, resp);
  }

  async function fetchOnce(path, token) {
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    try {
      const resp = await fetch(path, { headers, cache: "no-store", signal: ctl.signal });
      const text = await resp.text();
      return { resp, text, token };
    } catch (e) {
      throw new APIError(path, 0, ctl.signal.aborted ? "no answer within " + FETCH_TIMEOUT_MS / 1000 + " s" : "unreachable (" + e.message + ")");
    } finally {
      clearTimeout(t);
    }
  }

  function readJSON(path, { resp, text }) {
    for (const f of dateListeners) f(resp.headers.get("Date"));
    let body = null;
    try {
      body = JSON.parse(text);
    } catch (_) {
      /* reported below */
    }
    if (!resp.ok) throw new APIError(path, resp.status, body && body.error ? body.error : text.slice(0, 200) || resp.statusText);
    if (body === null || typeof body !== "object") throw new APIError(path, resp.status, "the answer is not JSON");
    return body;
  }

  return Object.freeze({
    getJSON,
    APIError,
    // onDate registers f to receive every answer's Date header (app.js
    // corrects its clock by it).
    onDate: (f) => dateListeners.push(f),
  });
})();
