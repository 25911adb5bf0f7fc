package serving

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/event"
)

// TestConditionalGet asks cached answers again with If-None-Match, as a
// dashboard whose fetches revalidate does: the ETag of an unchanged answer
// gets 304 with no body, any other tag the 200 answer; once a speed pane of
// the range is rewritten, the old tag gets the new answer (its PV the
// events') with a new tag. /v1/status, built once per second, does the
// same, and a refresh shows in it at once (its tick count).
func TestConditionalGet(t *testing.T) {
	db := testDB(t)
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	spec := func(from, to time.Time, perPane int, seed uint64) genSpec {
		return genSpec{from: from, to: to, perPane: perPane, partitions: 2, terms: 40, prefix: "t", users: 200, ips: 200, seed: seed}
	}
	speedEvs := gen(spec(horizon, t13, 20, 2))
	writeSpeed(t, db, speedEvs, speedCap, t0)
	srv, base := startServer(t, db)
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		code               int
		etag, cache, ctype string
		body               []byte
	}
	ask := func(path string, inm ...string) answer {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range inm {
			req.Header.Add("If-None-Match", v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return answer{resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"), body}
	}
	pv := func(a answer) int64 {
		t.Helper()
		var tr trafficResp
		if err := json.Unmarshal(a.body, &tr); err != nil {
			t.Fatalf("decode %q: %v", a.body, err)
		}
		return tr.Total.PV
	}
	path := "/v1/traffic" + q(horizon, t13, "step", "15m")
	first := ask(path)
	if first.code != 200 || first.etag == "" || first.cache != "no-cache" || first.ctype != "application/json" {
		t.Fatalf("first answer: %d, ETag %q, Cache-Control %q, Content-Type %q", first.code, first.etag, first.cache, first.ctype)
	}
	if got, want := pv(first), truthOf(speedEvs, horizon, t13).pv; got != want {
		t.Fatalf("pv %d, want %d", got, want)
	}
	for _, inm := range [][]string{{first.etag}, {`"x", W/` + first.etag}, {`"x"`, first.etag}, {"*"}} {
		if a := ask(path, inm...); a.code != http.StatusNotModified || len(a.body) != 0 || a.etag != first.etag {
			t.Errorf("If-None-Match %q: %d, %d bytes, ETag %q; want 304, no body, ETag %s", inm, a.code, len(a.body), a.etag, first.etag)
		}
	}
	if a := ask(path, `"x"`); a.code != 200 || string(a.body) != string(first.body) {
		t.Errorf(`If-None-Match "x": %d %q, want 200 and the answer`, a.code, a.body)
	}

	// Speed rewrites 12:10 with more events: the old tag gets the new
	// answer.
	m := horizon.Add(10 * time.Minute)
	late := gen(spec(m, m.Add(time.Minute), 50, 9))
	var kept []event.Event
	for _, ev := range speedEvs {
		if ev.Time.Before(m) || !ev.Time.Before(m.Add(time.Minute)) {
			kept = append(kept, ev)
		}
	}
	writeSpeed(t, db, late, speedCap, t0.Add(time.Second))
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := ask(path, first.etag)
	if a.code != 200 || a.etag == "" || a.etag == first.etag {
		t.Fatalf("after the rewrite: %d, ETag %q (before %q); want 200 and a new tag", a.code, a.etag, first.etag)
	}
	if got, want := pv(a), truthOf(append(kept, late...), horizon, t13).pv; got != want {
		t.Errorf("pv after the rewrite %d, want %d", got, want)
	}

	// The status: revalidated, then changed by a refresh.
	ticks := func(a answer) int64 {
		t.Helper()
		var st struct{ Refresh struct{ Ticks int64 } }
		if err := json.Unmarshal(a.body, &st); err != nil {
			t.Fatalf("decode %q: %v", a.body, err)
		}
		return st.Refresh.Ticks
	}
	st := ask("/v1/status")
	if st.code != 200 || st.etag == "" {
		t.Fatalf("status: %d, ETag %q", st.code, st.etag)
	}
	if a := ask("/v1/status", st.etag); a.code != http.StatusNotModified {
		t.Errorf("status revalidated: %d, want 304", a.code)
	}
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := ask("/v1/status", st.etag); a.code != 200 || ticks(a) != ticks(st)+1 {
		t.Errorf("status after a refresh: %d, ticks %d; want 200 and %d ticks", a.code, ticks(a), ticks(st)+1)
	}
}
