package alerts

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/views"
)

const goodRules = `
dashboard_url: http://127.0.0.1:8080/
notifiers:
  - name: hook
    webhook: {url: "http://127.0.0.1:9/alerts"}
  - name: mail
    email: {smtp: "127.0.0.1:25", starttls: false, from: a@b, to: [c@d]}
rules:
  - name: InstanceErrors
    view: levels
    where: {level: ERROR}
    group_by: [instance]
    window: 5m
    threshold: {above: 500}
    labels: {severity: page}
    annotations:
      summary: "{{ .Labels.instance }}: {{ .Value }} errors"
    notify: [hook, mail]
  - name: PVDrop
    view: traffic
    measure: pv
    window: 1h
    baseline: {days: 7, deviations: 4, direction: below}
  - name: NewErrorPattern
    view: patterns
    window: 10m
    new_pattern: {level: ERROR, min_count: 10, lookback: 7d}
`

func TestParseGood(t *testing.T) {
	rs, err := Parse([]byte(goodRules))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules) != 3 || len(rs.Notifiers) != 2 {
		t.Fatalf("%d rules, %d notifiers; want 3, 2", len(rs.Rules), len(rs.Notifiers))
	}
	r := rs.Rules[0]
	if r.Measure != "count" || r.Window != 5*time.Minute || r.Threshold == nil || !r.Threshold.Above || r.Threshold.Value != 500 {
		t.Errorf("rule 0: %+v threshold %+v", r, r.Threshold)
	}
	b := rs.Rules[1].Baseline
	if b == nil || b.Every != 24*time.Hour || b.MinHistory != 3 || b.MinSpread != 0.05 || rs.Rules[1].Delay != 2*time.Minute {
		t.Errorf("baseline defaults: %+v delay %s", b, rs.Rules[1].Delay)
	}
	if np := rs.Rules[2].NewPattern; np == nil || np.Lookback != 7*24*time.Hour || np.MinCount != 10 {
		t.Errorf("new pattern: %+v", np)
	}
	if rs.Notifiers["mail"].Email.StartTLS || !rs.Notifiers["hook"].Webhook.URLIsSet() {
		t.Errorf("notifiers: %+v %+v", rs.Notifiers["mail"].Email, rs.Notifiers["hook"].Webhook)
	}
}

// URLIsSet keeps the test readable.
func (w *WebhookConfig) URLIsSet() bool { return w.URL != "" }

// TestParseBad checks that each kind of mistake is refused with the rule's
// name, the field and what is wrong.
func TestParseBad(t *testing.T) {
	rule := func(body string) string {
		return "notifiers:\n  - name: hook\n    webhook: {url: \"http://x/\"}\nrules:\n  - name: R1\n" + body
	}
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"bad window", rule("    view: levels\n    window: 5x\n    threshold: {above: 1}\n"), []string{`rule "R1"`, "field window", `"5x"`}},
		{"unknown view", rule("    view: bogus\n    window: 5m\n    threshold: {above: 1}\n"), []string{`rule "R1"`, "field view", "levels"}},
		{"unknown field", rule("    view: levels\n    window: 5m\n    treshold: {above: 1}\n"), []string{`rule "R1"`, "line 8", "field treshold", "unknown field"}},
		{"two conditions", rule("    view: levels\n    window: 5m\n    threshold: {above: 1}\n    baseline: {days: 3}\n"), []string{"exactly one condition"}},
		{"no condition", rule("    view: levels\n    window: 5m\n"), []string{"exactly one condition"}},
		{"above and below", rule("    view: levels\n    window: 5m\n    threshold: {above: 1, below: 2}\n"), []string{"field threshold", "exactly one of above and below"}},
		{"unknown notifier", rule("    view: levels\n    window: 5m\n    threshold: {above: 1}\n    notify: [pager]\n"), []string{"field notify", `"pager"`, "hook"}},
		{"bad group_by", rule("    view: traffic\n    measure: pv\n    group_by: [instance]\n    window: 5m\n    threshold: {above: 1}\n"), []string{"field group_by", "nothing"}},
		{"bad measure", rule("    view: traffic\n    measure: bytes\n    window: 5m\n    threshold: {above: 1}\n"), []string{"field measure", "pv, uv, ips"}},
		{"hot needs term", rule("    view: hot\n    window: 5m\n    threshold: {above: 1}\n"), []string{"field where.term", "needs it"}},
		{"bad template", rule("    view: levels\n    window: 5m\n    threshold: {above: 1}\n    annotations: {summary: \"{{ .Nope }}\"}\n"), []string{"field annotations.summary", "Nope"}},
		{"new pattern off patterns", rule("    view: levels\n    window: 5m\n    new_pattern: {level: ERROR}\n"), []string{"field new_pattern", "patterns view"}},
		{"baseline window too long", rule("    view: traffic\n    measure: pv\n    window: 48h\n    baseline: {every: 24h}\n"), []string{"field window", "longer than baseline.every"}},
		{"duplicate rule", rule("    view: levels\n    window: 5m\n    threshold: {above: 1}\n  - name: R1\n    view: levels\n    window: 5m\n    threshold: {above: 1}\n"), []string{"another rule has this name"}},
		{"bad name", "rules:\n  - name: \"has space\"\n    view: levels\n    window: 5m\n    threshold: {above: 1}\n", []string{"field name"}},
		{"bad webhook", "notifiers:\n  - name: h\n    webhook: {url: \"ftp://x\"}\n", []string{"notifiers[0]", "not an http(s) URL"}},
		{"bad alertmanager", "notifiers:\n  - name: am\n    alertmanager: {url: \"alertmanager:9093\"}\n", []string{"notifiers[0]", "alertmanager.url", "not an http(s) URL"}},
		{"bad resend", "notifiers:\n  - name: am\n    alertmanager: {url: \"http://am:9093\", resend: -1s}\n", []string{"notifiers[0]", "alertmanager.resend"}},
		{"two destinations", "notifiers:\n  - name: two\n    log: {}\n    webhook: {url: \"http://x/\"}\n", []string{"notifiers[0]", "exactly one of webhook, email, alertmanager and log"}},
		{"missing password env", "notifiers:\n  - name: m\n    email: {smtp: \"h:587\", from: a@b, to: [c@d], username: u, password_env: LOGLAMBDA_TEST_NO_SUCH_VAR}\n", []string{"password_env", "not set"}},
		{"glob on patterns' instance", rule("    view: patterns\n    where: {instance: \"db-*\"}\n    window: 5m\n    threshold: {above: 1}\n"), []string{`rule "R1"`, "field where.instance", "not a glob"}},
		{"unset receiver env", "notifiers:\n  - name: h\n    webhook: {url: \"http://${LOGLAMBDA_TEST_NO_SUCH_VAR}/x\"}\n", []string{"notifiers[0]", "webhook.url", "LOGLAMBDA_TEST_NO_SUCH_VAR is not set"}},
		{"not yaml", "rules: [\n", []string{"line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.file))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Errorf("error %T is not a *RuleError", err)
			}
		})
	}
}

// TestParseEnv: notifier addresses take ${NAME} and ${NAME:-default} from
// the environment; nothing else is expanded.
func TestParseEnv(t *testing.T) {
	t.Setenv("LOGLAMBDA_TEST_HOOK", "http://hooks.example:9000/in")
	t.Setenv("LOGLAMBDA_TEST_EMPTY", "")
	file := `notifiers:
  - name: hook
    webhook: {url: "${LOGLAMBDA_TEST_HOOK}"}
  - name: mail
    email: {smtp: "${LOGLAMBDA_TEST_EMPTY:-127.0.0.1:8025}", from: "${LOGLAMBDA_TEST_UNSET:-a@b}", to: ["ops@${LOGLAMBDA_TEST_UNSET:-example.com}"]}
rules:
  - name: R
    view: levels
    window: 5m
    threshold: {above: 1}
    annotations: {summary: "${LOGLAMBDA_TEST_HOOK}"}
    notify: [hook, mail]
`
	rs, err := Parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if u := rs.Notifiers["hook"].Webhook.URL; u != "http://hooks.example:9000/in" {
		t.Errorf("webhook url %q", u)
	}
	if e := rs.Notifiers["mail"].Email; e.SMTP != "127.0.0.1:8025" || e.From != "a@b" || e.To[0] != "ops@example.com" {
		t.Errorf("email %+v", e)
	}
	if a := rs.Rules[0].Annotations["summary"]; a != "${LOGLAMBDA_TEST_HOOK}" {
		t.Errorf("annotation %q was expanded", a)
	}
}

func TestParseEmpty(t *testing.T) {
	rs, err := Parse(nil)
	if err != nil || len(rs.Rules) != 0 {
		t.Fatalf("empty file: %v, %v", rs, err)
	}
}

// TestDemoRules checks the rule file the demo ships (internal/gen).
func TestDemoRules(t *testing.T) {
	path := filepath.Join("..", "..", "internal", "gen", "demo-rules.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Skip("no demo rule file")
	}
	rs, err := ReadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules) == 0 {
		t.Fatal("demo rule file has no rules")
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {10, 30 * time.Second}} {
		if got := backoff(time.Second, 30*time.Second, tt.n); got != tt.want {
			t.Errorf("backoff after %d: %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestWindow(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 30, 0, time.UTC)
	thr := &Rule{Window: 5 * time.Minute, Threshold: &Threshold{Above: true}}
	from, to := window(thr, time.Minute, now)
	if want := time.Date(2026, 12, 1, 10, 1, 0, 0, time.UTC); !to.Equal(want) || !from.Equal(want.Add(-5*time.Minute)) {
		t.Errorf("threshold window %s..%s", from, to)
	}
	bl := &Rule{Window: time.Hour, Delay: 2 * time.Minute, Baseline: &Baseline{}}
	from, to = window(bl, time.Minute, now)
	if want := time.Date(2026, 12, 1, 9, 58, 0, 0, time.UTC); !to.Equal(want) || !from.Equal(want.Add(-time.Hour)) {
		t.Errorf("baseline window %s..%s", from, to)
	}
}

// TestViewSpecsAreViews: the views the engine measures itself are views of
// the registry.
func TestViewSpecsAreViews(t *testing.T) {
	for name := range viewSpecs {
		if _, ok := views.Lookup(name); !ok {
			t.Errorf("viewSpecs names %q, not a view of views.Registry", name)
		}
	}
}
