package serving

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	llv1 "github.com/loglambda/loglambda/schemas/proto/loglambda/v1"
	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/alerts"
)

// checkViewAPIs: serving's table names every view of the registry once, in
// its order, and GET /v1/views lists them with their routes, which
// answer.
func checkViewAPIs(t *testing.T, sc *scenario) {
	var names []string
	for _, a := range sc.srv.apis {
		names = append(names, a.view)
	}
	if !reflect.DeepEqual(names, views.Names) {
		t.Fatalf("serving's views %v, want the registry's %v", names, views.Names)
	}
	var body struct {
		Views []struct {
			Name, Path string
			Panel      *struct{ Rows string }
		}
	}
	if code := get(t, sc.url, "/v1/views", &body); code != 200 || len(body.Views) != len(views.Names) {
		t.Fatalf("GET /v1/views: %d, %+v", code, body)
	}
	for i, v := range body.Views {
		if v.Name != views.Names[i] || v.Path != "/v1/"+v.Name {
			t.Errorf("view %d: %+v", i, v)
		}
		var ans map[string]any
		if code := get(t, sc.url, v.Path+q(t10, t13), &ans); code != 200 {
			t.Errorf("GET %s: %d %v", v.Path, code, ans)
		}
		if v.Panel != nil {
			if _, ok := ans[v.Panel.Rows].([]any); !ok {
				t.Errorf("%s: the panel's rows %q are not an array of the answer", v.Name, v.Panel.Rows)
			}
		}
	}
}

// checkRulesKnowEveryView: every view of the registry is measurable by
// alert rules, by the engine itself or by serving's table.
func checkRulesKnowEveryView(t *testing.T, sc *scenario) {
	m := alerts.Measurable(querySource{sc.srv})
	for _, name := range views.Names {
		if len(m[name]) == 0 {
			t.Errorf("view %s: rules cannot measure it", name)
		}
	}
}

// checkGRPCView asks every view by name over gRPC and over HTTP with the
// same parameters: the bodies must be the same; bad parameters and unknown
// views are INVALID_ARGUMENT with HTTP's message.
func checkGRPCView(t *testing.T, sc *scenario) {
	cl := llv1.NewQueryServiceClient(startGRPC(t, sc.srv))
	ctx := context.Background()
	params := []map[string]string{
		{"from": t10.Format(time.RFC3339), "to": horizon.Format(time.RFC3339)},
		{"from": horizon.Add(-time.Hour).Format(time.RFC3339), "to": t13.Format(time.RFC3339), "step": "20m"},
		{"from": t10.Format(time.RFC3339), "to": t13.Format(time.RFC3339), "k": "3"},
	}
	for _, a := range sc.srv.apis {
		for _, p := range params {
			vals := url.Values{}
			for k, v := range p {
				vals.Set(k, v)
			}
			var want map[string]any
			code := get(t, sc.url, "/v1/"+a.view+"?"+vals.Encode(), &want)
			resp, err := cl.View(ctx, &llv1.ViewRequest{View: a.view, Params: p})
			if code != 200 {
				// A view without a step or k refuses it: the same refusal.
				if status.Code(err) != codes.InvalidArgument || !strings.Contains(want["error"].(string), status.Convert(err).Message()) {
					t.Errorf("%s %v: HTTP %d %v, gRPC %v", a.view, p, code, want, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %v: %v", a.view, p, err)
			}
			// Both as JSON decodes them (numbers float64).
			b, _ := json.Marshal(resp.GetBody().AsMap())
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if resp.GetView() != a.view || !reflect.DeepEqual(got, want) {
				t.Errorf("%s %v: gRPC body\n%v\nHTTP body\n%v", a.view, p, got, want)
			}
		}
	}
	_, err := cl.View(ctx, &llv1.ViewRequest{View: "paths", Params: map[string]string{"k": "0"}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `k="0"`) {
		t.Errorf("k=0: %v", err)
	}
	_, err = cl.View(ctx, &llv1.ViewRequest{View: "nosuch"})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "paths") {
		t.Errorf("unknown view: %v", err)
	}
}

// checkGRPCWindow: Window answers as GET /v1/window, and refuses what it
// refuses.
func checkGRPCWindow(t *testing.T, sc *scenario) {
	cl := llv1.NewQueryServiceClient(startGRPC(t, sc.srv))
	for _, c := range []struct {
		last   time.Duration
		points int
		to     time.Time
	}{
		{time.Hour, 60, time.Time{}},
		{6 * time.Hour, 72, t13.Add(-7 * time.Minute)},
		{24 * time.Hour, 96, horizon.Add(30 * time.Second)},
	} {
		req := &llv1.WindowRequest{Last: durationpb.New(c.last), Points: int32(c.points), To: ts(c.to)}
		vals := url.Values{"last": {c.last.String()}, "points": {strconv.Itoa(c.points)}}
		if !c.to.IsZero() {
			vals.Set("to", c.to.Format(time.RFC3339))
		}
		var want struct {
			From, To string
			Step     int64 `json:"step_seconds"`
			Pane     int64 `json:"pane_seconds"`
		}
		if code := get(t, sc.url, "/v1/window?"+vals.Encode(), &want); code != 200 {
			t.Fatalf("GET /v1/window?%s: %d", vals.Encode(), code)
		}
		resp, err := cl.Window(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if *rfc3339(resp.From) != want.From || *rfc3339(resp.To) != want.To ||
			resp.Step.AsDuration() != time.Duration(want.Step)*time.Second || resp.Pane.AsDuration() != time.Duration(want.Pane)*time.Second {
			t.Errorf("%v: gRPC %v, HTTP %+v", c, resp, want)
		}
	}
	var body struct{ Error string }
	get(t, sc.url, "/v1/window?last=1h&points=0", &body)
	_, err := cl.Window(context.Background(), &llv1.WindowRequest{Last: durationpb.New(time.Hour)})
	if status.Code(err) != codes.InvalidArgument || body.Error != status.Convert(err).Message() {
		t.Errorf("points 0: gRPC %v, HTTP %+v", err, body)
	}
}

// TestViewTable: serving's table of the views, its routes, rules and RPCs,
// over one scenario.
func TestViewTable(t *testing.T) {
	sc := newScenario(t)
	t.Run("APIs", func(t *testing.T) { checkViewAPIs(t, sc) })
	t.Run("RulesKnowEveryView", func(t *testing.T) { checkRulesKnowEveryView(t, sc) })
	t.Run("GRPCView", func(t *testing.T) { checkGRPCView(t, sc) })
	t.Run("GRPCWindow", func(t *testing.T) { checkGRPCWindow(t, sc) })
}

// TestReadmeRules: the rule file README.md shows is accepted, its rules on
// the views of serving's table included.
func TestReadmeRules(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\nnotifiers:")
	yaml, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no rule file")
	}
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte("notifiers:"+yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SMTP_PASSWORD", "x")
	s := &Server{}
	s.apis = s.viewAPIs()
	rs, err := alerts.ReadFile(path, querySource{s}.RuleViews())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rs.Rules {
		seen[r.View] = true
	}
	for _, v := range []string{views.ViewPaths, views.ViewStatuses} {
		if !seen[v] {
			t.Errorf("README.md's rule file has no rule on view %s", v)
		}
	}
}
