package serving

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/loglambda/loglambda/serving/lakesql"
)

// maxSQLBody is the largest query text POST /v1/sql reads: far above any
// query a person writes, small enough that a body cannot eat memory.
const maxSQLBody = 64 << 10

// sqlFormats are the answers of POST /v1/sql by ?format=.
var sqlFormats = map[string]struct {
	contentType string
	write       func(io.Writer, *lakesql.Result) error
}{
	"json":  {lakesql.ContentTypeJSON, lakesql.WriteJSON},
	"csv":   {lakesql.ContentTypeCSV, lakesql.WriteCSV},
	"arrow": {lakesql.ContentTypeArrow, lakesql.WriteArrow},
}

// sqlRequest is the JSON form of a POST /v1/sql body; the other form is
// the SQL text itself.
type sqlRequest struct {
	Query string `json:"query"`
}

// handleSQL answers POST /v1/sql: one read-only query over the lake
// (serving/lakesql), as JSON, CSV or an Arrow IPC stream. Every format
// carries X-Loglambda-Truncated, so a CSV or Arrow reader also learns that
// the row limit cut the answer.
func (s *Server) handleSQL(w http.ResponseWriter, r *http.Request) {
	if s.sql == nil {
		writeError(w, http.StatusServiceUnavailable, "no lake configured: start the server with --lake DIR to query the lake with SQL")
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	out, ok := sqlFormats[format]
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format %q is not one of json, csv, arrow", format))
		return
	}
	q, code, err := readSQLBody(w, r)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	res, err := s.sql.Query(r.Context(), q)
	if err != nil {
		code := sqlErrorCode(err)
		if code == http.StatusInternalServerError {
			s.cfg.logger.Error("sql query failed", "err", err)
		}
		writeError(w, code, err.Error())
		return
	}
	w.Header().Set("Content-Type", out.contentType)
	w.Header().Set("X-Loglambda-Truncated", strconv.FormatBool(res.Truncated))
	w.WriteHeader(http.StatusOK)
	if err := out.write(w, res); err != nil {
		// The status is sent; the client sees a cut body.
		s.cfg.logger.Warn("sql answer not fully written", "format", format, "err", err)
	}
}

// readSQLBody reads the query: the body as SQL text, or {"query": "..."}
// (SQL never starts with "{"). It returns the HTTP status of its error.
func readSQLBody(w http.ResponseWriter, r *http.Request) (string, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSQLBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return "", http.StatusRequestEntityTooLarge, fmt.Errorf("query body is over %d bytes", maxSQLBody)
	case err != nil:
		return "", http.StatusBadRequest, fmt.Errorf("read query body: %w", err)
	}
	text := strings.TrimSpace(string(body))
	if strings.HasPrefix(text, "{") {
		var req sqlRequest
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return "", http.StatusBadRequest, fmt.Errorf(`query body is not {"query": "..."}: %w`, err)
		}
		text = req.Query
	}
	if strings.TrimSpace(text) == "" {
		return "", http.StatusBadRequest, errors.New(`empty query: POST the SQL text, or {"query": "..."}`)
	}
	return text, 0, nil
}

// sqlErrorCode is the HTTP status of a lakesql error: the client's query
// (400), no lake yet (503), too slow (504).
func sqlErrorCode(err error) int {
	switch {
	case errors.Is(err, lakesql.ErrRejected), errors.Is(err, lakesql.ErrBadQuery):
		return http.StatusBadRequest
	case errors.Is(err, lakesql.ErrNoLake):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		// The client is gone; nobody reads this.
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
