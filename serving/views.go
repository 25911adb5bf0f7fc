package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/alerts"
)

// What serving offers of each view of views.Registry, in one table
// (viewAPIs): its answer, served at GET /v1/<view> and by gRPC's View
// RPC with the same JSON body; its dashboard panel when the dashboard's
// generic table draws it; and what alert rules measure in it when the
// rule engine does not know the view itself. A new view is one line
// there, beside its query-layer file <view>.go; the routes, the RPC, GET
// /v1/views (which the dashboard reads) and the rules iterate the table.

// viewAPI is serving's side of one view.
type viewAPI struct {
	// view is the view's name in views.Registry.
	view string
	// answer answers a query string through the query layer with the
	// JSON body.
	answer jsonAnswer
	// panel is the view's table on the dashboard; nil when the dashboard
	// draws the view its own way (app.js, patterns.js, clusters.js).
	panel *panel
	// rules is what alert rules measure in the view; nil for the views
	// whose measures the rule engine computes itself (alerts' viewSpecs).
	rules func(s *Server) alerts.ViewRules
}

// viewAPIs is the table, in views.Registry's order (TestViewAPIs checks
// that it names every view of the registry once).
func (s *Server) viewAPIs() []viewAPI {
	return []viewAPI{
		{view: views.ViewHot, answer: cachedJSON(parseHotQuery, noCtxEntry(s.hot), newHotBody)},
		{view: views.ViewTraffic, answer: cachedJSON(s.parseTrafficQuery, s.traffic, newTrafficBody)},
		{view: views.ViewLevels, answer: cachedJSON(s.parseLevelsQuery, noCtxEntry(s.levels), newLevelsBody)},
		{view: views.ViewPatterns, answer: cachedJSON(s.parsePatternsQuery, noCtxEntry(s.patterns), newPatternsBody)},
		{view: views.ViewClusters, answer: cachedJSON(s.parseClustersQuery, noCtxEntry(s.clusters), newClustersBody)},
		{view: views.ViewPaths, answer: cachedJSON(parsePathsQuery, noCtxEntry(s.paths), newPathsBody), panel: pathsPanel, rules: pathsRules},
		{view: views.ViewStatuses, answer: cachedJSON(parseStatusesQuery, noCtxEntry(s.statuses), newStatusesBody), panel: statusesPanel, rules: statusesRules},
	}
}

// api returns the table's line of the view named name.
func (s *Server) api(name string) (viewAPI, bool) {
	for _, a := range s.apis {
		if a.view == name {
			return a, true
		}
	}
	return viewAPI{}, false
}

// panel is a view's table on the dashboard, drawn by its generic table
// (app.js, viewTable) from GET /v1/views: one row per element of the
// answer's array Rows, busiest first, one cell per column.
type panel struct {
	Title string `json:"title"`
	// Caption says what the table holds, for screen readers.
	Caption string `json:"caption"`
	// Rows is the answer's array field; Total an integer field of the
	// answer shown in the badge with TotalLabel ("paths": 1,234 paths);
	// K how many rows are asked (0: no k parameter).
	Rows       string `json:"rows"`
	Total      string `json:"total,omitempty"`
	TotalLabel string `json:"total_label,omitempty"`
	K          int    `json:"k,omitempty"`
	// Empty is shown when the range has no rows.
	Empty   string   `json:"empty"`
	Columns []column `json:"columns"`
}

// column is one column of a panel.
type column struct {
	Label string `json:"label"`
	// Field is the row's field, dotted for a nested one
	// (latency_ms.p50).
	Field string `json:"field"`
	// Format is text, int, ms or bytes.
	Format string `json:"format"`
	// Attr names the row's data-* attribute holding the raw value
	// (tests and scripts read those); empty: none.
	Attr string `json:"attr,omitempty"`
	// Unless is a field whose zero makes the cell "-" (latency quantiles
	// of requests without a latency).
	Unless string `json:"unless,omitempty"`
}

// viewsBody is GET /v1/views: every view served, its route, its panel
// (null: the dashboard draws it its own way) and what rules measure in it.
type viewsBody struct {
	Views []viewBody `json:"views"`
}

type viewBody struct {
	Name  string     `json:"name"`
	Path  string     `json:"path"`
	Panel *panel     `json:"panel"`
	Rules *rulesBody `json:"rules"`
}

type rulesBody struct {
	Measures []string `json:"measures"`
	Where    []string `json:"where"`
	GroupBy  []string `json:"group_by"`
}

func (s *Server) handleViews(w http.ResponseWriter, _ *http.Request) {
	body := viewsBody{Views: []viewBody{}}
	for _, a := range s.apis {
		vb := viewBody{Name: a.view, Path: viewPath(a.view), Panel: a.panel}
		if a.rules != nil {
			vr := a.rules(s)
			vb.Rules = &rulesBody{Measures: vr.Measures, Where: vr.Where, GroupBy: vr.GroupBy}
		}
		body.Views = append(body.Views, vb)
	}
	writeJSON(w, http.StatusOK, body)
}

// viewPath is the route of a view's answer.
func viewPath(view string) string { return "/v1/" + view }

// RuleViews is what rules measure in the views of the table that declare
// it (alerts.ViewSource).
func (q querySource) RuleViews() map[string]alerts.ViewRules {
	out := map[string]alerts.ViewRules{}
	for _, a := range q.s.apis {
		if a.rules != nil {
			out[a.view] = a.rules(q.s)
		}
	}
	return out
}

// jsonAnswer answers a query string with the JSON body, newline ended,
// and its ETag (nil: none); a bad parameter is a *paramError.
type jsonAnswer func(ctx context.Context, q url.Values) (*encodedAnswer, error)

// plainJSON is the jsonAnswer of a query layer answer: the query string
// becomes a query (parse), the query layer answers it (answer), the
// answer becomes the JSON body (body).
func plainJSON[Q, A, B any](parse func(url.Values) (Q, error), answer func(context.Context, Q) (A, error), body func(A) B) jsonAnswer {
	return func(ctx context.Context, q url.Values) (*encodedAnswer, error) {
		v, err := parse(q)
		if err != nil {
			return nil, err
		}
		a, err := answer(ctx, v)
		if err != nil {
			return nil, err
		}
		b, err := encodeBody(body(a))
		if err != nil {
			return nil, err
		}
		return &encodedAnswer{body: b}, nil
	}
}

// cachedJSON is plainJSON for an answer kept in the answer cache: the
// body and its ETag are computed once per cached answer, so a repeated
// question costs a lookup.
func cachedJSON[Q, A, B any](parse func(url.Values) (Q, error), answer func(context.Context, Q) (A, *answerEntry, error), body func(A) B) jsonAnswer {
	return func(ctx context.Context, q url.Values) (*encodedAnswer, error) {
		v, err := parse(q)
		if err != nil {
			return nil, err
		}
		a, e, err := answer(ctx, v)
		if err != nil {
			return nil, err
		}
		return e.jsonBody(func() any { return body(a) })
	}
}

func encodeBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode answer: %w", err)
	}
	return append(b, '\n'), nil
}

// serveJSON is the GET endpoint of a jsonAnswer: 200 with the body, or
// the error (writeQueryError: 400 naming a bad parameter).
func serveJSON(a jsonAnswer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		b, err := a(r.Context(), q)
		if err != nil {
			writeQueryError(w, q, err)
			return
		}
		writeEncoded(w, r, b)
	}
}
