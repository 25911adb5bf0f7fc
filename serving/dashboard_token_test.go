package serving

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDashboardWithToken renders the dashboard in headless Chromium against
// a server that requires tokens: with a read token in the tab's
// sessionStorage (put there by a page of the same origin, as the prompt
// does) the page sends it and shows the views.
func TestDashboardWithToken(t *testing.T) {
	chromium := lookChromium(t)
	evs := gen(genSpec{from: horizon.Add(-time.Hour), to: horizon, perPane: 10, partitions: 1, terms: 25, prefix: "q", users: 60, ips: 70, seed: 31})
	db := testDB(t)
	now := time.Now().UTC().Truncate(time.Second)
	writeBatchLayer(t, db, evs, now)
	toks, err := ParseTokens(strings.NewReader(readToken + " read\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(db, Topic(topic), Now(func() time.Time { return t13 }), WithTokens(toks))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	page := "/?range=6h&to=" + horizon.Format(time.RFC3339)
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.HandleFunc("/set-token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><script>sessionStorage.setItem("loglambda.token", %q); location.replace(%q);</script>`, readToken, page)
	})
	hs := httptest.NewServer(mux)
	defer hs.Close()

	tr := truthOf(evs, horizon.Add(-6*time.Hour), horizon)
	if int(tr.pv) != len(evs) {
		t.Fatalf("fixture: %d of %d events in range", tr.pv, len(evs))
	}
	withToken := render(t, chromium, hs.URL+"/set-token")
	withToken.wantValue(t, "total-pv", strconv.FormatInt(tr.pv, 10), thousands(tr.pv))
	// The panels ask the API through the same client as the page, so they
	// send the token too: the patterns add up to the range's lines and the
	// clusters (with outliers and events without features) to its PV.
	var lines int64
	for _, n := range patternTruth(evs, horizon.Add(-6*time.Hour), horizon, "", "") {
		lines += n
	}
	withToken.wantAttrs(t, "patterns-exact", map[string]string{"data-total": strconv.FormatInt(lines, 10)})
	csum := sumAttr(withToken.rows("clusters-body"), "data-count")
	outl, miss := num(withToken.attr("clusters-outliers", "data-value")), num(withToken.attr("clusters-missing", "data-value"))
	if csum == 0 || csum+outl+miss != tr.pv {
		t.Errorf("clusters with a token: %d events + %d outliers + %d without features, want them adding up to pv %d", csum, outl, miss, tr.pv)
	}

	// Without a token the page prompts for one (window.prompt), which
	// headless Chromium never answers: the refusals are checked over HTTP
	// in TestHTTPTokenScopes.
}
