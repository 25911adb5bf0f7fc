// Package dashboard is the web page the serving layer answers at "/":
// static files embedded in the binary (index.html, style.css, dom.js with
// the helpers the scripts share, api.js the client they all ask the API
// through, app.js and the panels patterns.js and
// clusters.js) that poll the JSON API (/v1/traffic, /v1/hot, /v1/status,
// ...) from the browser and draw what they get.
//
// There is no build step and nothing is fetched from elsewhere: the machines
// loglambda runs on often have no internet, and an operator opening the
// dashboard during an incident must not wait on a CDN. The page asks for the
// API with relative URLs, so it also works behind a reverse proxy that mounts
// serving under a prefix.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"time"
)

//go:embed static
var static embed.FS

// asset is one embedded file as it is served.
type asset struct {
	name        string // in the embedded tree, for errors and ServeContent
	contentType string
	etag        string
	body        []byte
}

// files lists what the dashboard serves: URL path, embedded file and content
// type. The types are explicit rather than looked up by extension, because
// mime.TypeByExtension consults the host's mime tables and some map .js to
// text/plain, which browsers refuse to run under nosniff.
func files() []struct{ path, name, contentType string } {
	return []struct{ path, name, contentType string }{
		{"/", "static/index.html", "text/html; charset=utf-8"},
		{"/dashboard/dom.js", "static/dom.js", "text/javascript; charset=utf-8"},
		{"/dashboard/api.js", "static/api.js", "text/javascript; charset=utf-8"},
		{"/dashboard/app.js", "static/app.js", "text/javascript; charset=utf-8"},
		{"/dashboard/patterns.js", "static/patterns.js", "text/javascript; charset=utf-8"},
		{"/dashboard/clusters.js", "static/clusters.js", "text/javascript; charset=utf-8"},
		{"/dashboard/style.css", "static/style.css", "text/css; charset=utf-8"},
	}
}

// contentSecurityPolicy lets the page load only its own files and talk only
// to its own origin: a dashboard that shows search terms typed by strangers
// must not run a script one of them smuggled into a term.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Dashboard serves the embedded files. It is immutable once built, so one
// value serves any number of requests at once.
type Dashboard struct {
	assets map[string]asset
}

// New reads the embedded files. It fails only if the binary was built
// without them, which the package's tests rule out; it panics then, like
// regexp.MustCompile on a constant.
func New() *Dashboard {
	d := &Dashboard{assets: map[string]asset{}}
	for _, f := range files() {
		body, err := static.ReadFile(f.name)
		if err != nil {
			panic(fmt.Sprintf("dashboard: embedded file %s: %v", f.name, err))
		}
		sum := sha256.Sum256(body)
		d.assets[f.path] = asset{
			name:        f.name,
			contentType: f.contentType,
			etag:        `"` + hex.EncodeToString(sum[:8]) + `"`,
			body:        body,
		}
	}
	return d
}

// Paths are the URL paths the dashboard answers, sorted, for the serving
// router, which matches exact paths.
func (d *Dashboard) Paths() []string {
	ps := make([]string, 0, len(d.assets))
	for p := range d.assets {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// ServeHTTP answers GET and HEAD for the dashboard's paths. Browsers
// revalidate every time (no-cache) and get 304 while the ETag matches, so a
// new binary's page is seen at once without re-sending unchanged files.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := d.assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
