package serving

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// writeJSON writes v as the JSON body with the given status.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// The connection may be gone; there is no one left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// jsonContentType is the Content-Type header value of every JSON answer,
// shared by the responses that write an encoded body: net/http only reads
// a header's values, and setting it with Header.Set allocated a slice per
// request.
var jsonContentType = []string{"application/json"}

// writeEncoded writes an encoded answer with status 200, or 304 Not
// Modified with no body when the request's If-None-Match names its ETag:
// a dashboard that polls an answer that has not changed (its cache mode
// no-cache) then gets no body to send, read and parse again. The ETag is
// sent with "Cache-Control: no-cache", so that a browser asks again each
// time rather than guessing a freshness.
func writeEncoded(w http.ResponseWriter, r *http.Request, enc *encodedAnswer) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	if enc.etag != nil {
		h["Etag"] = enc.etag
		h["Cache-Control"] = noCache
		if inm := r.Header["If-None-Match"]; inm != nil && etagMatches(inm, enc.etag[0]) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
	// The connection may be gone; there is no one left to tell.
	_, _ = w.Write(enc.body)
}

var noCache = []string{"no-cache"}

// etagMatches reports whether the If-None-Match header values name etag
// (a list of entity tags, weak ones compared weakly as RFC 9110 8.8.3.2
// says for If-None-Match, or "*").
func etagMatches(inm []string, etag string) bool {
	for _, v := range inm {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}

// errorBody is the body of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// fmtTime formats t as RFC 3339 UTC, the time format of every answer.
func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// jsonTime is a time that encodes as RFC 3339 UTC, or null when zero
// (batch_horizon before batch has ever run).
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := fmtTime(t)
	return &s
}
