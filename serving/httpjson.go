package serving

import (
	"encoding/json"
	"net/http"
	"time"
)

// writeJSON writes v as the JSON body with the given status.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// The connection may be gone; there is no one left to tell.
	_ = json.NewEncoder(w).Encode(v)
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
