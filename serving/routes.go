package serving

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/serving/dashboard"
)

// route is one HTTP endpoint. Every route is listed in Server.routes: the
// views' from their table (viewAPIs), then the rest.
type route struct {
	path    string
	method  string
	handler http.Handler
}

// routed is a route in the router, with its series of the requests
// answered 200 and of the durations, looked up once (newRouter) rather
// than by label at each request.
type routed struct {
	route
	ok       prometheus.Counter
	duration prometheus.Observer
}

// routes builds the router over every endpoint.
func (s *Server) routes() http.Handler {
	var rs []route
	for _, a := range s.apis {
		rs = append(rs, route{viewPath(a.view), http.MethodGet, serveJSON(a.answer)})
	}
	rs = append(rs, []route{
		{"/v1/views", http.MethodGet, http.HandlerFunc(s.handleViews)},
		{"/v1/status", http.MethodGet, http.HandlerFunc(s.handleStatus)},
		{"/v1/window", http.MethodGet, serveJSON(plainJSON(parseWindowQuery, noCtx(s.Window), newWindowBody))},
		{"/v1/sql", http.MethodPost, http.HandlerFunc(s.handleSQL)},
		{"/v1/alerts", http.MethodGet, http.HandlerFunc(s.handleAlerts)},
		{"/v1/rules", http.MethodGet, http.HandlerFunc(s.handleRules)},
		{"/v1/rules/reload", http.MethodPost, http.HandlerFunc(s.handleRulesReload)},
		{"/healthz", http.MethodGet, http.HandlerFunc(handleHealthz)},
		{"/readyz", http.MethodGet, http.HandlerFunc(s.handleReadyz)},
		{"/metrics", http.MethodGet, s.metrics.handler()},
		{"/v1/admin/reload", http.MethodPost, http.HandlerFunc(s.handleAdminReload)},
	}...)
	// The dashboard at "/" and its two files: exact paths like the rest, so
	// an unknown path still gets the JSON 404 and not the page.
	dash := dashboard.New()
	s.openPaths = map[string]bool{}
	for _, p := range dash.Paths() {
		rs = append(rs, route{p, http.MethodGet, dash})
		s.openPaths[p] = true
	}
	return newRouter(s.metrics, rs)
}

// router dispatches on the exact path, answering unknown paths (404) and
// wrong methods (405) in JSON like every other error, which
// http.ServeMux's plain-text replies would not, and records each request's
// route, status and duration.
type router struct {
	metrics *metrics
	routes  map[string]routed
}

// unmatchedRoute labels requests for unknown paths in metrics, so that
// scanners probing random paths cannot grow the label set.
const unmatchedRoute = "unmatched"

func newRouter(m *metrics, rs []route) *router {
	r := &router{metrics: m, routes: map[string]routed{}}
	for _, rt := range rs {
		r.routes[rt.path] = routed{route: rt, ok: m.requests.WithLabelValues(rt.path, okCode),
			duration: m.requestDuration.WithLabelValues(rt.path)}
	}
	return r
}

func (rt *router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	label := unmatchedRoute
	r, ok := rt.routes[req.URL.Path]
	switch {
	case !ok:
		writeError(rec, http.StatusNotFound, fmt.Sprintf("no such path %q", req.URL.Path))
	case req.Method != r.method && !(r.method == http.MethodGet && req.Method == http.MethodHead):
		label = r.path
		allow := r.method
		if r.method == http.MethodGet {
			allow += ", " + http.MethodHead
		}
		rec.Header().Set("Allow", allow)
		writeError(rec, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", req.Method, r.path, allow))
	default:
		label = r.path
		r.handler.ServeHTTP(rec, req)
	}
	if ok && rec.code == http.StatusOK {
		r.ok.Inc()
		r.duration.Observe(time.Since(start).Seconds())
		return
	}
	rt.metrics.requests.WithLabelValues(label, strconv.Itoa(rec.code)).Inc()
	rt.metrics.requestDuration.WithLabelValues(label).Observe(time.Since(start).Seconds())
}

// okCode is the code label of a 200.
var okCode = strconv.Itoa(http.StatusOK)

// statusRecorder remembers the status code written, for metrics.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// handleHealthz answers while the process is alive, whatever MongoDB does.
func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// handleReadyz answers 200 once the cache has been loaded, so a load
// balancer does not send queries to a server that would answer them empty,
// and 503 again, naming which and why, while MongoDB cannot be read (the
// refreshes fail), a layer of this process cannot write it, or a layer is
// blocked.
func (s *Server) handleReadyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: the cache has not been loaded from MongoDB yet\n"))
		return
	}
	// MongoDB cannot be read: the refreshes fail (serve alone and up).
	if f := s.refreshErr.Load(); f != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not ready: MongoDB cannot be read since %s: %v\n", f.since.UTC().Format(time.RFC3339), f.err)
		return
	}
	// A layer running apart recorded itself blocked in MongoDB.
	for _, st := range s.snap.Load().status.blocked {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not ready: %s is blocked since %s: %s\n", layerName(st), st.Since.UTC().Format(time.RFC3339), st.Cause)
		return
	}
	if s.cfg.backlogs != nil {
		for _, b := range s.cfg.backlogs() {
			// A layer of this process cannot write MongoDB.
			if !b.FailingSince.IsZero() {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = fmt.Fprintf(w, "not ready: %s cannot write MongoDB since %s: %s\n", b.Layer, b.FailingSince.UTC().Format(time.RFC3339), b.LastError)
				return
			}
			if b.Blocked != "" {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = fmt.Fprintf(w, "not ready: %s is blocked: %s\n", b.Layer, b.Blocked)
				return
			}
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}

// layerName is a layer process as /readyz names it: "speed instance X".
func layerName(st collections.LayerState) string {
	if st.Instance == "" {
		return st.Layer
	}
	return st.Layer + " instance " + st.Instance
}
