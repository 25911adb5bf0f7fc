package serving

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// What the HTTP side of every view shares: the range parameters and the
// error answer. Each view's parse and JSON body are in http<view>.go;
// checking the values and computing the answers is the shared query
// layer's (<view>.go), so HTTP and gRPC cannot drift apart.

// writeQueryError answers 400 for a bad parameter and 500 for anything
// else. A bad parameter is named with the value as the client wrote it
// (90s, not the 1m30s the query layer would print).
func writeQueryError(w http.ResponseWriter, q url.Values, err error) {
	var pe *paramError
	if errors.As(err, &pe) {
		if raw := q.Get(pe.param); raw != "" {
			e := *pe
			e.value = raw
			err = &e
		}
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}

// parseRange reads from and to (RFC 3339, or Unix seconds); absent ones
// are left zero, for the query layer's defaults.
func parseRange(q url.Values) (Range, error) {
	var r Range
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &r.From}, {"to", &r.To}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := parseTime(v)
		if err != nil {
			return r, badParam(p.name, v, "%v", err)
		}
		*p.dst = t
	}
	return r, nil
}

// parseTime accepts RFC 3339 (any offset, fractions allowed) or Unix
// seconds.
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("not an RFC 3339 time (2006-01-02T15:04:05Z) or Unix seconds")
}
