package serving

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/views"
	"go.mongodb.org/mongo-driver/v2/bson"
)

type statusResp struct {
	Topic        string
	BatchHorizon *string `json:"batch_horizon"`
	Partitions   []struct {
		Partition     int32
		Offset        int64
		HighWatermark int64 `json:"high_watermark"`
		Lag           *int64
		Watermark     *string
		LateDropped   int64 `json:"late_dropped"`
		ParseErrors   int64 `json:"parse_errors"`
		Events        int64
	}
	LateDropped int64 `json:"late_dropped"`
	ParseErrors int64 `json:"parse_errors"`
	Events      int64
	Lake        map[string]any
	SpeedPanes  int    `json:"speed_panes"`
	BatchPanes  int    `json:"batch_panes"`
	LagUnknown  string `json:"lag_unknown"`
	Behind      []struct {
		Layer         string
		PendingDocs   int64   `json:"pending_docs"`
		PendingHours  int64   `json:"pending_hours"`
		OldestPending *string `json:"oldest_pending"`
		FailingSince  *string `json:"failing_since"`
		LastError     string  `json:"last_error"`
		SkippedPanes  int64   `json:"skipped_panes"`
		SkippedDocs   int64   `json:"skipped_docs"`
		Blocked       string
	}
	Refresh struct {
		Ticks           int64   `json:"ticks"`
		LastMS          float64 `json:"last_ms"`
		LastDocs        int64   `json:"last_docs"`
		MeanDocs        float64 `json:"mean_docs"`
		SpeedScans      int64   `json:"speed_scans"`
		BatchWholeReads int64   `json:"batch_whole_reads"`
	}
}

func TestStatus(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	writeBatchLayer(t, db, gen(genSpec{from: t10, to: t10.Add(5 * time.Minute), perPane: 10, partitions: 1, terms: 5, users: 5, ips: 5, seed: 1}), now)
	writeSpeed(t, db, gen(genSpec{from: horizon, to: horizon.Add(3 * time.Minute), perPane: 10, partitions: 2, terms: 5, users: 5, ips: 5, seed: 2}), speedCap, now)
	cps := db.Collection(collections.CheckpointCollection)
	for p := int64(0); p < 3; p++ {
		doc := bson.M{"_id": "logs|p" + string(rune('0'+p)), "topic": topic, "partition": int32(p),
			"offset": 100*p + 99, "high_watermark": 100*p + 150, "watermark": horizon.Add(time.Duration(p) * time.Minute),
			"max_event_time": horizon, "late_dropped": p, "parse_errors": 2 * p, "events": 1000 + p, "updated": now}
		if _, err := cps.InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	// Another topic's checkpoint, and a partition that has applied nothing.
	if _, err := cps.InsertMany(ctx, []any{
		bson.M{"_id": "other|p0", "topic": "other", "partition": int32(0), "offset": int64(5), "events": int64(7)},
		bson.M{"_id": "logs|p3", "topic": topic, "partition": int32(3), "offset": int64(-1), "high_watermark": int64(20)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(collections.MetaCollection).InsertOne(ctx, bson.M{"_id": collections.LakeDocID(topic), "topic": topic,
		"files": int32(12), "rows": int64(3456), "bytes": int64(7890), "updated": now}); err != nil {
		t.Fatal(err)
	}
	// The broker holds 100p+150 records on partition p < 3, 20 on 3.
	broker := testkit.BrokerWith(t, topic, 4, map[int32]int{0: 150, 1: 250, 2: 350, 3: 20})
	srv, base := startServer(t, db, BrokerEndOffsets(broker, topic))
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var got statusResp
	if code := get(t, base, "/v1/status", &got); code != 200 {
		t.Fatalf("status %d", code)
	}
	if got.BatchHorizon == nil || *got.BatchHorizon != "2026-11-20T12:00:00Z" || got.Topic != topic {
		t.Errorf("horizon %v topic %q", got.BatchHorizon, got.Topic)
	}
	if got.SpeedPanes != 3 || got.BatchPanes != 5 {
		t.Errorf("speed_panes %d batch_panes %d, want 3 and 5", got.SpeedPanes, got.BatchPanes)
	}
	if len(got.Partitions) != 4 {
		t.Fatalf("partitions %+v, want 4 of topic %s", got.Partitions, topic)
	}
	for _, p := range got.Partitions[:3] {
		n := int64(p.Partition)
		wantWM := horizon.Add(time.Duration(n) * time.Minute).Format(time.RFC3339)
		if p.Offset != 100*n+99 || p.HighWatermark != 100*n+150 || p.Lag == nil || *p.Lag != 50 || p.Watermark == nil || *p.Watermark != wantWM ||
			p.LateDropped != n || p.ParseErrors != 2*n || p.Events != 1000+n {
			t.Errorf("partition %d: %+v", n, p)
		}
	}
	if p := got.Partitions[3]; p.Lag == nil || *p.Lag != 20 || p.Watermark != nil {
		t.Errorf("partition 3 (nothing applied): lag %v watermark %v, want 20 and null", p.Lag, p.Watermark)
	}
	// Without a broker the lag is unknown (null), not the checkpoints' 0.
	alone, aloneBase := startServer(t, db)
	if err := alone.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var unknown statusResp
	get(t, aloneBase, "/v1/status", &unknown)
	if len(unknown.Partitions) != 4 || !strings.Contains(unknown.LagUnknown, "no broker") {
		t.Errorf("no broker: partitions %+v, lag_unknown %q", unknown.Partitions, unknown.LagUnknown)
	}
	for _, p := range unknown.Partitions {
		if p.Lag != nil {
			t.Errorf("no broker: partition %d lag %d, want null", p.Partition, *p.Lag)
		}
	}
	// The first refresh read every document of the topic: the views
	// (counted here from the store), 4 checkpoints and 2 batch_meta; the
	// next, with nothing changed, the checkpoints and batch_meta alone.
	var viewDocs int64
	for _, v := range views.Names {
		for _, coll := range []string{collections.BatchCollection(v), collections.SpeedCollection(v)} {
			n, err := db.Collection(coll).CountDocuments(ctx, bson.M{})
			if err != nil {
				t.Fatal(err)
			}
			viewDocs += n
		}
	}
	if r := got.Refresh; r.Ticks != 1 || r.LastDocs != viewDocs+4+2 || r.SpeedScans != 1 || r.BatchWholeReads != 1 || r.LastMS <= 0 {
		t.Errorf("refresh cost after the first refresh %+v, want 1 tick, %d documents, 1 speed scan, 1 whole batch read", r, viewDocs+6)
	}
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	get(t, base, "/v1/status", &got)
	if r := got.Refresh; r.Ticks != 2 || r.LastDocs != 6 || r.MeanDocs != float64(viewDocs+12)/2 || r.SpeedScans != 1 || r.BatchWholeReads != 1 {
		t.Errorf("refresh cost after a refresh with nothing new %+v, want 2 ticks, the last of 6 documents", r)
	}
	if got.LateDropped != 3 || got.ParseErrors != 6 || got.Events != 3003 {
		t.Errorf("totals late %d parse %d events %d, want 3 6 3003", got.LateDropped, got.ParseErrors, got.Events)
	}
	if got.Lake["rows"] != 3456.0 || got.Lake["files"] != 12.0 || got.Lake["updated"] != now.Format(time.RFC3339) {
		t.Errorf("lake %v", got.Lake)
	}
}

func TestBadParameters(t *testing.T) {
	_, base := startServer(t, testDB(t))
	cases := []struct {
		path string
		// want are substrings of the error: the parameter and the value.
		want []string
	}{
		{"/v1/hot?from=yesterday", []string{"from", "yesterday"}},
		{"/v1/hot?to=2026-13-01T00:00:00Z", []string{"to", "2026-13-01"}},
		{"/v1/hot?from=2026-11-20T12:00:00Z&to=2026-11-20T12:00:00Z", []string{"from", "not before"}},
		{"/v1/traffic?from=2026-11-20T13:00:00Z&to=2026-11-20T12:00:00Z", []string{"from", "not before"}},
		{"/v1/hot?from=2026-10-01T00:00:00Z&to=2026-11-20T00:00:00Z", []string{"to", "longer than"}},
		{"/v1/hot?k=0", []string{"k", `"0"`}},
		{"/v1/hot?k=-3", []string{"k", "-3"}},
		{"/v1/hot?k=ten", []string{"k", "ten"}},
		{"/v1/hot?k=1001", []string{"k", "1001", "1000"}},
		{"/v1/traffic?step=fast", []string{"step", "fast"}},
		{"/v1/traffic?step=0s", []string{"step", "0s"}},
		{"/v1/traffic?step=-1m", []string{"step", "-1m"}},
		{"/v1/traffic?step=90s", []string{"step", "90s", "multiple of the pane 1m0s"}},
		{"/v1/traffic?from=2026-10-21T00:00:00Z&to=2026-11-20T00:00:00Z&step=1m", []string{"step", "43200 buckets"}},
		{"/v1/levels?from=yesterday", []string{"from", "yesterday"}},
		{"/v1/levels?from=2026-11-20T13:00:00Z&to=2026-11-20T12:00:00Z", []string{"from", "not before"}},
		{"/v1/levels?step=fast", []string{"step", "fast"}},
		{"/v1/levels?step=0s", []string{"step", "0s"}},
		{"/v1/levels?step=90s", []string{"step", "90s", "multiple of the pane 1m0s"}},
		{"/v1/levels?from=2026-10-21T00:00:00Z&to=2026-11-20T00:00:00Z&step=1m", []string{"step", "43200 buckets"}},
		{"/v1/levels?instance=" + strings.Repeat("x", 300), []string{"instance", "longer than 256"}},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			var got errorBody
			if code := get(t, base, c.path, &got); code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", code)
			}
			for _, w := range c.want {
				if !strings.Contains(got.Error, w) {
					t.Errorf("error %q does not mention %q", got.Error, w)
				}
			}
		})
	}
}

func TestHTTPBasics(t *testing.T) {
	srv, base := startServer(t, testDB(t))
	body := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, b := body("/healthz"); code != 200 || strings.TrimSpace(b) != "ok" {
		t.Errorf("/healthz: %d %q", code, b)
	}
	if code, _ := body("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the first refresh: %d, want 503", code)
	}
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _ := body("/readyz"); code != 200 {
		t.Errorf("/readyz after a refresh: %d, want 200", code)
	}

	// Before batch has ever run: no horizon, nothing exact, empty lists.
	var hot hotResp
	get(t, base, "/v1/hot", &hot)
	if hot.BatchHorizon != nil || hot.Exact || hot.Terms == nil {
		t.Errorf("empty hot answer: %+v", hot)
	}
	var tr trafficResp
	get(t, base, "/v1/traffic", &tr)
	if tr.BatchHorizon != nil || tr.Exact || len(tr.Series) != 60 || tr.Total.PV != 0 {
		t.Errorf("empty traffic answer: horizon %v exact %v %d buckets pv %d", tr.BatchHorizon, tr.Exact, len(tr.Series), tr.Total.PV)
	}

	var e errorBody
	if code := get(t, base, "/v1/nope", &e); code != 404 || !strings.Contains(e.Error, "/v1/nope") {
		t.Errorf("unknown path: %d %q", code, e.Error)
	}
	resp, err := http.Post(base+"/v1/hot", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || !strings.Contains(resp.Header.Get("Allow"), "GET") {
		t.Errorf("POST /v1/hot: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	_, metrics := body("/metrics")
	for _, w := range []string{
		`loglambda_serving_requests_total{code="404",route="unmatched"} 1`,
		`loglambda_serving_requests_total{code="405",route="/v1/hot"} 1`,
		`loglambda_serving_requests_total{code="200",route="/v1/hot"} 1`,
		`loglambda_serving_request_duration_seconds_count{route="/v1/traffic"} 1`,
		`loglambda_serving_refresh_duration_seconds_count 1`,
		`loglambda_serving_cache_panes{layer="speed"} 0`,
	} {
		if !strings.Contains(metrics, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
}
