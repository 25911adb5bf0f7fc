package dashboard

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/loglambda/loglambda/internal/testkit"
)

func TestServesEmbeddedFiles(t *testing.T) {
	hs := httptest.NewServer(New())
	t.Cleanup(hs.Close)
	cases := []struct {
		path        string
		contentType string
		// marker is a string the file must contain, to tell it is the right one.
		marker string
	}{
		{"/", "text/html; charset=utf-8", "<!doctype html>"},
		{"/dashboard/app.js", "text/javascript; charset=utf-8", `"use strict";`},
		{"/dashboard/dom.js", "text/javascript; charset=utf-8", "window.loglambdaDOM ="},
		{"/dashboard/api.js", "text/javascript; charset=utf-8", "window.loglambdaAPI ="},
		{"/dashboard/style.css", "text/css; charset=utf-8", ":root {"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, body := fetch(t, http.MethodGet, hs.URL+c.path, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != c.contentType {
				t.Errorf("Content-Type %q, want %q", got, c.contentType)
			}
			if !strings.Contains(body, c.marker) {
				t.Errorf("body lacks %q", c.marker)
			}
			for h, want := range map[string]string{
				"X-Content-Type-Options":  "nosniff",
				"Cache-Control":           "no-cache",
				"Content-Security-Policy": contentSecurityPolicy,
			} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s %q, want %q", h, got, want)
				}
			}
			etag := resp.Header.Get("ETag")
			if !regexp.MustCompile(`^"[0-9a-f]{16}"$`).MatchString(etag) {
				t.Fatalf("ETag %q", etag)
			}
			if resp, body := fetch(t, http.MethodGet, hs.URL+c.path, etag); resp.StatusCode != http.StatusNotModified || body != "" {
				t.Errorf("GET with If-None-Match %s: status %d, %d bytes; want 304 and none", etag, resp.StatusCode, len(body))
			}
			if resp, body := fetch(t, http.MethodHead, hs.URL+c.path, ""); resp.StatusCode != http.StatusOK || body != "" ||
				resp.Header.Get("Content-Type") != c.contentType {
				t.Errorf("HEAD: status %d, %d bytes, type %q", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
			}
		})
	}
	if resp, _ := fetch(t, http.MethodGet, hs.URL+"/dashboard/missing.js", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown file: status %d, want 404", resp.StatusCode)
	}
}

// TestPageIsSelfContained checks that the page asks only for its own files
// and the API, by relative URL: the machines it runs on have no internet,
// and a proxy may mount it under a prefix.
func TestPageIsSelfContained(t *testing.T) {
	d := New()
	index := string(d.assets["/"].body)
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(index, -1)
	if len(refs) == 0 {
		t.Fatal("index.html references nothing")
	}
	for _, m := range refs {
		ref := m[1]
		switch {
		case strings.HasPrefix(ref, "dashboard/"):
			if !slices.Contains(d.Paths(), "/"+ref) {
				t.Errorf("index.html references %s, which the dashboard does not serve (it serves %v)", ref, d.Paths())
			}
		case strings.HasPrefix(ref, "v1/"), ref == "metrics", ref == "#main", ref == "data:,":
		default:
			t.Errorf("index.html references %q: not one of the dashboard's files, the API, or the page itself", ref)
		}
	}
	external := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`)
	for path, a := range d.assets {
		for _, m := range external.FindAllString(string(a.body), -1) {
			// The SVG namespace is a name, never fetched.
			if m != "http://www.w3.org/" {
				t.Errorf("%s mentions the external URL %s", path, m)
			}
		}
	}
	js := string(d.assets["/dashboard/app.js"].body)
	for _, api := range []string{`"v1/status"`, `"v1/traffic?"`, `"v1/hot?"`} {
		if !strings.Contains(js, api) {
			t.Errorf("app.js does not ask %s by relative URL", api)
		}
	}
	if strings.Contains(js, "innerHTML") {
		t.Error("app.js uses innerHTML: terms come from users' searches, set them as text")
	}
}

func fetch(t *testing.T, method, url, ifNoneMatch string) (*http.Response, string) {
	t.Helper()
	resp, b := testkit.Do(t, nil, testkit.Request(t, method, url, nil, "If-None-Match", ifNoneMatch))
	return resp, string(b)
}
