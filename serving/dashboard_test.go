package serving

import (
	"net/http"
	"strings"
	"testing"

	"github.com/loglambda/loglambda/internal/testkit"
)

// TestDashboardRoutes checks that the server answers the dashboard's files
// at their paths with their types, and that every other path, under /v1 or
// not, still gets the JSON 404 rather than the page.
func TestDashboardRoutes(t *testing.T) {
	_, base := startServer(t, testDB(t))
	do := func(method, path string) (*http.Response, string) {
		t.Helper()
		resp, b := testkit.Do(t, nil, testkit.Request(t, method, base+path, nil))
		return resp, string(b)
	}
	files := []struct {
		path, contentType, marker string
	}{
		{"/", "text/html; charset=utf-8", `<script src="dashboard/app.js"`},
		{"/dashboard/app.js", "text/javascript; charset=utf-8", `getJSON("v1/status")`},
		{"/dashboard/style.css", "text/css; charset=utf-8", ".chart-svg"},
	}
	for _, f := range files {
		resp, body := do(http.MethodGet, f.path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != f.contentType || !strings.Contains(body, f.marker) {
			t.Errorf("GET %s: status %d, type %q, has %q: %v", f.path, resp.StatusCode, resp.Header.Get("Content-Type"), f.marker, strings.Contains(body, f.marker))
		}
		if resp, _ := do(http.MethodHead, f.path); resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: status %d", f.path, resp.StatusCode)
		}
	}
	notFound := []string{"/v1/nope", "/v1/", "/v1", "/v1/hot/extra", "/index.html", "/dashboard/", "/dashboard/nope.js", "/app.js", "/favicon.ico"}
	for _, p := range notFound {
		resp, body := do(http.MethodGet, p)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" ||
			!strings.Contains(body, `"error":`) || !strings.Contains(body, p) {
			t.Errorf("GET %s: status %d, type %q, body %q; want a JSON 404 naming the path", p, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if resp, body := do(http.MethodPost, "/"); resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(body, `"error":`) {
		t.Errorf("POST /: status %d body %q, want a JSON 405", resp.StatusCode, body)
	}
}
