package alerts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/loglambda/loglambda/schemas/views"
)

// Rules is a parsed and checked rule file: what the engine evaluates.
type Rules struct {
	// DashboardURL is linked from every notification (the engine's
	// DashboardURL option when the file gives none).
	DashboardURL string
	Notifiers    map[string]*Notifier
	Rules        []*Rule
	// Source is where the rules were read from, for /v1/rules.
	Source string
}

// Rule is one alerting rule, in the spirit of a Prometheus alerting rule:
// what to measure over which window, grouped how, the condition, how long
// it must hold, and what to say to whom.
type Rule struct {
	Name string
	// View is a view of views.Registry: levels, traffic, hot, patterns or
	// clusters (viewSpecs), or one the serving layer declares measures for
	// (ViewSource); Measure what is counted in it.
	View    string
	Measure string
	// Where keeps only the keys given (levels: instance, level; hot: term;
	// patterns: pattern, level, instance; clusters: cluster); a value with
	// *, ? or [ is a glob (instance: db-*), except a hot term and the
	// patterns view's level and instance.
	Where map[string]string
	// GroupBy makes one alert per distinct value of these keys.
	GroupBy []string
	// Window is how far back the measure reaches; Delay ends the window
	// this long before the evaluation, so that late events are in.
	Window, Delay time.Duration
	// For is how long the condition must hold before the alert fires.
	For time.Duration

	// Exactly one condition is set.
	Threshold  *Threshold
	Baseline   *Baseline
	NewPattern *NewPattern

	Labels      map[string]string
	Annotations map[string]string
	Notify      []string

	annotations map[string]*template.Template
}

// Threshold holds when the value is above (or below) Value.
type Threshold struct {
	Above bool
	Value float64
}

// Baseline holds when the value lies Deviations robust deviations away
// from its usual level: the median of the same window Every before, over
// Days past periods, with the scaled MAD (1.4826 x MAD, at least MinSpread
// x median and at least 1) as the deviation.
type Baseline struct {
	Days       int
	Every      time.Duration
	Deviations float64
	// Direction is below, above or both.
	Direction  string
	MinHistory int
	MinSpread  float64
}

// NewPattern holds for a pattern first seen within the window (never in
// Lookback before it) at Level, with at least MinCount lines.
type NewPattern struct {
	Level    string
	MinCount int64
	Lookback time.Duration
}

// Notifier is a named destination: a webhook, an e-mail address list,
// an Alertmanager, or the log.
type Notifier struct {
	Name         string
	Webhook      *WebhookConfig
	Email        *EmailConfig
	Alertmanager *AlertmanagerConfig
	// Log writes each notification as an INFO line of the process's log.
	Log bool
	// Optional marks a receiver that may not be running (the demo's):
	// its deliveries are retried as any other's, but a failure is logged
	// at DEBUG and the last one at INFO, not WARN and ERROR.
	Optional bool
}

// AlertmanagerConfig pushes alerts to an Alertmanager's v2 API (POST
// /api/v2/alerts) as Prometheus does: firing alerts re-sent every Resend
// with endsAt 4 resend intervals (or evaluation intervals, the longer)
// ahead, so that Alertmanager keeps them while loglambda is alive, and a
// resolved alert sent with its endsAt.
type AlertmanagerConfig struct {
	// URL is the Alertmanager's base URL (http://alertmanager:9093).
	URL     string
	Timeout time.Duration
	Resend  time.Duration
}

// WebhookConfig posts the Alertmanager webhook JSON to URL.
type WebhookConfig struct {
	URL     string
	Timeout time.Duration
}

// EmailConfig sends mail through an SMTP server.
type EmailConfig struct {
	// SMTP is host:port of the server (submission, usually 587).
	SMTP string
	// StartTLS requires STARTTLS before anything else (default true); a
	// server that does not offer it is a failed delivery, not a plain one.
	StartTLS bool
	// Username and password authenticate (PLAIN), only ever over TLS or to
	// loopback; empty: no authentication.
	Username, Password string
	From               string
	To                 []string
	// CAFile trusts this PEM bundle besides the system roots;
	// InsecureSkipVerify trusts any certificate.
	CAFile             string
	InsecureSkipVerify bool
	Timeout            time.Duration
}

// viewSpec is what a view offers rules.
type viewSpec struct {
	measures []string
	// worst are the measures that do not add up across groups
	// (quantiles): a sample over several takes the largest.
	worst   []string
	where   []string
	groupBy []string
	// required are where keys that must be given.
	required []string
}

// viewSpecs lists the views whose measures the engine computes itself
// (measure), with their filters and group-by keys; the serving layer
// declares the others beside their answers (ViewSource). Every name is a
// view of views.Registry (TestViewSpecsAreViews).
var viewSpecs = map[string]viewSpec{
	"levels":   {measures: []string{"count"}, where: []string{"instance", "level"}, groupBy: []string{"instance", "level"}},
	"traffic":  {measures: []string{"pv", "uv", "ips"}},
	"hot":      {measures: []string{"count"}, where: []string{"term"}, required: []string{"term"}},
	"patterns": {measures: []string{"count"}, where: []string{"pattern", "level", "instance"}, groupBy: []string{"pattern", "level"}},
	"clusters": {measures: []string{"share", "outliers"}, where: []string{"cluster"}, groupBy: []string{"cluster"}},
}

// Defaults of a rule's optional fields.
const (
	defaultBaselineDays       = 7
	defaultBaselineEvery      = 24 * time.Hour
	defaultBaselineDeviations = 4
	defaultBaselineMinHistory = 3
	defaultBaselineMinSpread  = 0.05
	// defaultBaselineDelay ends a seasonal window two minutes (the default
	// lateness) before now: a window still filling would look like a drop.
	defaultBaselineDelay    = 2 * time.Minute
	defaultNewPatternLookbk = 7 * 24 * time.Hour
	defaultNotifyTimeout    = 10 * time.Second
	// defaultResend is Prometheus's --rules.alert.resend-delay.
	defaultResend = time.Minute
	maxWindow     = 31 * 24 * time.Hour
)

// The YAML shape of a rule file. Durations are strings, parsed by check,
// so that a bad one is named with its rule and field.
type fileSpec struct {
	DashboardURL string         `yaml:"dashboard_url"`
	Notifiers    []notifierSpec `yaml:"notifiers"`
	Rules        []ruleSpec     `yaml:"rules"`
}

type notifierSpec struct {
	Name         string            `yaml:"name"`
	Webhook      *webhookSpec      `yaml:"webhook"`
	Email        *emailSpec        `yaml:"email"`
	Alertmanager *alertmanagerSpec `yaml:"alertmanager"`
	Log          *struct{}         `yaml:"log"`
	Optional     bool              `yaml:"optional"`
}

type alertmanagerSpec struct {
	URL     string `yaml:"url"`
	Timeout string `yaml:"timeout"`
	Resend  string `yaml:"resend"`
}

type webhookSpec struct {
	URL     string `yaml:"url"`
	Timeout string `yaml:"timeout"`
}

type emailSpec struct {
	SMTP               string   `yaml:"smtp"`
	StartTLS           *bool    `yaml:"starttls"`
	Username           string   `yaml:"username"`
	Password           string   `yaml:"password"`
	PasswordEnv        string   `yaml:"password_env"`
	From               string   `yaml:"from"`
	To                 []string `yaml:"to"`
	CAFile             string   `yaml:"ca_file"`
	InsecureSkipVerify bool     `yaml:"insecure_skip_verify"`
	Timeout            string   `yaml:"timeout"`
}

type ruleSpec struct {
	Name        string            `yaml:"name"`
	View        string            `yaml:"view"`
	Measure     string            `yaml:"measure"`
	Where       map[string]string `yaml:"where"`
	GroupBy     []string          `yaml:"group_by"`
	Window      string            `yaml:"window"`
	Delay       string            `yaml:"delay"`
	For         string            `yaml:"for"`
	Threshold   *thresholdSpec    `yaml:"threshold"`
	Baseline    *baselineSpec     `yaml:"baseline"`
	NewPattern  *newPatternSpec   `yaml:"new_pattern"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
	Notify      []string          `yaml:"notify"`
}

type thresholdSpec struct {
	Above *float64 `yaml:"above"`
	Below *float64 `yaml:"below"`
}

type baselineSpec struct {
	Days       int      `yaml:"days"`
	Every      string   `yaml:"every"`
	Deviations float64  `yaml:"deviations"`
	Direction  string   `yaml:"direction"`
	MinHistory int      `yaml:"min_history"`
	MinSpread  *float64 `yaml:"min_spread"`
}

type newPatternSpec struct {
	Level    string `yaml:"level"`
	MinCount int64  `yaml:"min_count"`
	Lookback string `yaml:"lookback"`
}

// RuleError is a mistake in a rule file: the rule (empty for the file's
// top level), the field and what is wrong.
type RuleError struct {
	Rule  string
	Line  int
	Field string
	Msg   string
}

func (e *RuleError) Error() string {
	var b strings.Builder
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q", e.Rule)
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "(line %d)", e.Line)
	}
	if e.Field != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		fmt.Fprintf(&b, "field %s", e.Field)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ReadFile reads and checks a rule file; see Parse. extra are the views
// a ViewSource declares measures for, besides the engine's own.
func ReadFile(path string, extra map[string]ViewRules) (*Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	rs, err := parse(b, withViews(extra))
	if err != nil {
		return nil, fmt.Errorf("rule file %s: %w", path, err)
	}
	rs.Source = path
	return rs, nil
}

// Parse reads a rule file and checks every rule. All mistakes are
// returned, joined, each a *RuleError naming the rule, the field and what
// is wrong; a file with any mistake is refused whole. Only the views whose
// measures the engine computes itself are known (ReadFile takes the
// others).
func Parse(b []byte) (*Rules, error) { return parse(b, viewSpecs) }

func parse(b []byte, specs map[string]viewSpec) (*Rules, error) {
	var spec fileSpec
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file (io.EOF) is no rules rather than a mistake.
	if err := dec.Decode(&spec); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlErrors(b, err)
	}
	return check(spec, specs)
}

// yamlLine finds "line N:" in a YAML error message.
var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// yamlErrors turns the YAML decoder's errors into RuleErrors naming the
// rule each line falls in.
func yamlErrors(b []byte, err error) error {
	starts := ruleStarts(b)
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		re := &RuleError{Msg: strings.TrimPrefix(m, "yaml: ")}
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			re.Line, _ = strconv.Atoi(sub[1])
			re.Msg = sub[2]
			re.Rule = ruleAt(starts, re.Line)
			if f := unknownField.FindStringSubmatch(re.Msg); f != nil {
				re.Field, re.Msg = f[1], "unknown field (misspelt, or at the wrong level?)"
			}
		}
		errs = append(errs, re)
	}
	return errors.Join(errs...)
}

// unknownField is the YAML decoder's message for a key no struct has.
var unknownField = regexp.MustCompile(`^field (\S+) not found in type`)

// ruleStart is where a rule begins in the file and its name.
type ruleStart struct {
	line int
	name string
}

// ruleStarts lists the rules' first lines, read leniently so that a file
// the strict decoder refuses still names its rules.
func ruleStarts(b []byte) []ruleStart {
	var root yaml.Node
	if yaml.Unmarshal(b, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	top := root.Content[0]
	var out []ruleStart
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "rules" || top.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for _, r := range top.Content[i+1].Content {
			rs := ruleStart{line: r.Line}
			for j := 0; j+1 < len(r.Content); j += 2 {
				if r.Content[j].Value == "name" {
					rs.name = r.Content[j+1].Value
				}
			}
			out = append(out, rs)
		}
	}
	return out
}

func ruleAt(starts []ruleStart, line int) string {
	name := ""
	for _, s := range starts {
		if s.line <= line {
			name = s.name
		}
	}
	return name
}

// ruleName is what a rule's name must look like: a Prometheus label value
// users type (alertname), no spaces.
var ruleName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_:.-]*$`)

// labelName is a Prometheus label name.
var labelName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// check turns the YAML shape into Rules, collecting every mistake.
func check(spec fileSpec, specs map[string]viewSpec) (*Rules, error) {
	rs := &Rules{DashboardURL: spec.DashboardURL, Notifiers: map[string]*Notifier{}}
	var errs []error
	bad := func(rule, field, format string, args ...any) {
		errs = append(errs, &RuleError{Rule: rule, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if spec.DashboardURL != "" {
		if u, err := url.Parse(spec.DashboardURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			bad("", "dashboard_url", "%q is not an http(s) URL", spec.DashboardURL)
		}
	}
	for i, ns := range spec.Notifiers {
		field := fmt.Sprintf("notifiers[%d]", i)
		n, err := checkNotifier(ns)
		if err != nil {
			bad("", field, "%v", err)
			continue
		}
		if rs.Notifiers[n.Name] != nil {
			bad("", field+".name", "notifier %q is defined twice", n.Name)
			continue
		}
		rs.Notifiers[n.Name] = n
	}
	seen := map[string]bool{}
	for i, sp := range spec.Rules {
		name := sp.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		r, fieldErrs := checkRule(sp, rs.Notifiers, specs)
		for _, fe := range fieldErrs {
			bad(name, fe.field, "%s", fe.msg)
		}
		if len(fieldErrs) > 0 {
			continue
		}
		if seen[r.Name] {
			bad(name, "name", "another rule has this name")
			continue
		}
		seen[r.Name] = true
		rs.Rules = append(rs.Rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rs, nil
}

type fieldErr struct{ field, msg string }

// envRef is a reference to an environment variable in a notifier's
// address: ${NAME}, or ${NAME:-default} (the default when NAME is unset or
// empty), so that one rule file serves where receivers differ.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandEnv replaces the envRefs of the notifier's addresses in place.
func expandEnv(ns *notifierSpec) error {
	var err error
	expand := func(field string, s *string) {
		*s = envRef.ReplaceAllStringFunc(*s, func(ref string) string {
			m := envRef.FindStringSubmatch(ref)
			if v := os.Getenv(m[1]); v != "" {
				return v
			}
			if m[2] == "" && err == nil {
				err = fmt.Errorf("notifier %q: %s: $%s is not set (write ${%s:-default} for a default)", ns.Name, field, m[1], m[1])
			}
			return m[3]
		})
	}
	if w := ns.Webhook; w != nil {
		expand("webhook.url", &w.URL)
	}
	if a := ns.Alertmanager; a != nil {
		expand("alertmanager.url", &a.URL)
	}
	if e := ns.Email; e != nil {
		expand("email.smtp", &e.SMTP)
		expand("email.from", &e.From)
		expand("email.username", &e.Username)
		for i := range e.To {
			expand("email.to", &e.To[i])
		}
	}
	return err
}

func checkNotifier(ns notifierSpec) (*Notifier, error) {
	if !labelName.MatchString(strings.ReplaceAll(ns.Name, "-", "_")) {
		return nil, fmt.Errorf("name %q: want letters, digits, _ and -", ns.Name)
	}
	if err := expandEnv(&ns); err != nil {
		return nil, err
	}
	n := &Notifier{Name: ns.Name, Optional: ns.Optional}
	given := 0
	for _, g := range []bool{ns.Webhook != nil, ns.Email != nil, ns.Alertmanager != nil, ns.Log != nil} {
		if g {
			given++
		}
	}
	switch {
	case given != 1:
		return nil, fmt.Errorf("notifier %q: give exactly one of webhook, email, alertmanager and log", ns.Name)
	case ns.Log != nil:
		n.Log = true
	case ns.Alertmanager != nil:
		am := ns.Alertmanager
		u, err := url.Parse(am.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("notifier %q: alertmanager.url %q is not an http(s) URL", ns.Name, am.URL)
		}
		to, err := parseDuration(am.Timeout, defaultNotifyTimeout)
		if err != nil || to <= 0 {
			return nil, fmt.Errorf("notifier %q: alertmanager.timeout %q: want a positive duration", ns.Name, am.Timeout)
		}
		resend, err := parseDuration(am.Resend, defaultResend)
		if err != nil || resend <= 0 {
			return nil, fmt.Errorf("notifier %q: alertmanager.resend %q: want a positive duration", ns.Name, am.Resend)
		}
		n.Alertmanager = &AlertmanagerConfig{URL: strings.TrimSuffix(am.URL, "/"), Timeout: to, Resend: resend}
	case ns.Webhook != nil:
		u, err := url.Parse(ns.Webhook.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("notifier %q: webhook.url %q is not an http(s) URL", ns.Name, ns.Webhook.URL)
		}
		to, err := parseDuration(ns.Webhook.Timeout, defaultNotifyTimeout)
		if err != nil || to <= 0 {
			return nil, fmt.Errorf("notifier %q: webhook.timeout %q: want a positive duration", ns.Name, ns.Webhook.Timeout)
		}
		n.Webhook = &WebhookConfig{URL: ns.Webhook.URL, Timeout: to}
	default:
		e := ns.Email
		if _, _, err := net.SplitHostPort(e.SMTP); err != nil {
			return nil, fmt.Errorf("notifier %q: email.smtp %q: want host:port (%v)", ns.Name, e.SMTP, err)
		}
		if e.From == "" || len(e.To) == 0 {
			return nil, fmt.Errorf("notifier %q: email needs from and to", ns.Name)
		}
		to, err := parseDuration(e.Timeout, defaultNotifyTimeout)
		if err != nil || to <= 0 {
			return nil, fmt.Errorf("notifier %q: email.timeout %q: want a positive duration", ns.Name, e.Timeout)
		}
		pw := e.Password
		if e.PasswordEnv != "" {
			if pw != "" {
				return nil, fmt.Errorf("notifier %q: give email.password or email.password_env, not both", ns.Name)
			}
			v, ok := os.LookupEnv(e.PasswordEnv)
			if !ok {
				return nil, fmt.Errorf("notifier %q: email.password_env: $%s is not set", ns.Name, e.PasswordEnv)
			}
			pw = v
		}
		if e.CAFile != "" {
			if _, err := os.Stat(e.CAFile); err != nil {
				return nil, fmt.Errorf("notifier %q: email.ca_file: %v", ns.Name, err)
			}
		}
		n.Email = &EmailConfig{SMTP: e.SMTP, StartTLS: e.StartTLS == nil || *e.StartTLS, Username: e.Username,
			Password: pw, From: e.From, To: e.To, CAFile: e.CAFile, InsecureSkipVerify: e.InsecureSkipVerify, Timeout: to}
	}
	return n, nil
}

func checkRule(sp ruleSpec, notifiers map[string]*Notifier, specs map[string]viewSpec) (*Rule, []fieldErr) {
	var errs []fieldErr
	bad := func(field, format string, args ...any) {
		errs = append(errs, fieldErr{field, fmt.Sprintf(format, args...)})
	}
	r := &Rule{Name: sp.Name, View: sp.View, Measure: sp.Measure, Where: sp.Where, GroupBy: sp.GroupBy,
		Labels: sp.Labels, Annotations: sp.Annotations, Notify: sp.Notify}
	if !ruleName.MatchString(sp.Name) {
		bad("name", "%q: want a letter or _ then letters, digits, _ : . -", sp.Name)
	}
	vs, ok := specs[sp.View]
	switch _, isView := views.Lookup(sp.View); {
	case !ok && isView:
		bad("view", "%q: this server declares no measures of the view for rules (it measures %s)", sp.View, strings.Join(sortedKeys(specs), ", "))
	case !ok:
		bad("view", "%q: not a view of loglambda (%s); want one of %s", sp.View, strings.Join(views.Names, ", "), strings.Join(sortedKeys(specs), ", "))
	default:
		if r.Measure == "" && len(vs.measures) == 1 {
			r.Measure = vs.measures[0]
		}
		if !slices.Contains(vs.measures, r.Measure) {
			bad("measure", "%q: view %s measures %s", sp.Measure, sp.View, strings.Join(vs.measures, ", "))
		}
		for k, v := range sp.Where {
			if !slices.Contains(vs.where, k) {
				bad("where."+k, "view %s filters on %s", sp.View, orNone(vs.where))
			} else if v == "" {
				bad("where."+k, "empty value")
			} else if _, err := path.Match(v, ""); err != nil && k != "term" {
				bad("where."+k, "%q: bad glob: %v", v, err)
			} else if sp.View == "patterns" && k != "pattern" && strings.ContainsAny(v, "*?[") {
				// The patterns view counts one level and one instance at
				// a time; a glob would silently count all of them.
				bad("where."+k, "%q: the patterns view filters on one %s, not a glob", v, k)
			}
		}
		for _, k := range vs.required {
			if sp.Where[k] == "" {
				bad("where."+k, "view %s needs it", sp.View)
			}
		}
		for _, g := range sp.GroupBy {
			if !slices.Contains(vs.groupBy, g) {
				bad("group_by", "%q: view %s groups by %s", g, sp.View, orNone(vs.groupBy))
			}
		}
	}
	var err error
	if r.Window, err = parseDuration(sp.Window, 0); err != nil || r.Window <= 0 || r.Window > maxWindow {
		bad("window", "%q: want a positive duration up to %s (like 5m, 1h)", sp.Window, maxWindow)
	}
	if r.For, err = parseDuration(sp.For, 0); err != nil || r.For < 0 {
		bad("for", "%q: want a duration (like 0s, 2m)", sp.For)
	}
	defDelay := time.Duration(0)
	if sp.Baseline != nil {
		defDelay = defaultBaselineDelay
	}
	if r.Delay, err = parseDuration(sp.Delay, defDelay); err != nil || r.Delay < 0 || r.Delay > time.Hour {
		bad("delay", "%q: want a duration from 0s to 1h", sp.Delay)
	}
	conds := 0
	if sp.Threshold != nil {
		conds++
		t := sp.Threshold
		switch {
		case (t.Above == nil) == (t.Below == nil):
			bad("threshold", "give exactly one of above and below")
		case t.Above != nil:
			r.Threshold = &Threshold{Above: true, Value: *t.Above}
		default:
			r.Threshold = &Threshold{Value: *t.Below}
		}
	}
	if sp.Baseline != nil {
		conds++
		b := sp.Baseline
		bl := &Baseline{Days: b.Days, Deviations: b.Deviations, Direction: b.Direction, MinHistory: b.MinHistory, MinSpread: defaultBaselineMinSpread}
		if bl.Days == 0 {
			bl.Days = defaultBaselineDays
		}
		if bl.Deviations == 0 {
			bl.Deviations = defaultBaselineDeviations
		}
		if bl.Direction == "" {
			bl.Direction = "both"
		}
		if bl.MinHistory == 0 {
			bl.MinHistory = defaultBaselineMinHistory
		}
		if b.MinSpread != nil {
			bl.MinSpread = *b.MinSpread
		}
		if bl.Every, err = parseDuration(b.Every, defaultBaselineEvery); err != nil || bl.Every < time.Hour {
			bad("baseline.every", "%q: want a period of at least 1h (24h: the same time of day; 168h or 7d: the same weekday)", b.Every)
		}
		if bl.Days < 1 || bl.Days > 90 {
			bad("baseline.days", "%d: want 1..90", b.Days)
		}
		if bl.Deviations <= 0 {
			bad("baseline.deviations", "%g: want > 0", b.Deviations)
		}
		if !slices.Contains([]string{"below", "above", "both"}, bl.Direction) {
			bad("baseline.direction", "%q: want below, above or both", b.Direction)
		}
		if bl.MinHistory < 1 || bl.MinHistory > bl.Days {
			bad("baseline.min_history", "%d: want 1..days (%d)", bl.MinHistory, bl.Days)
		}
		if bl.MinSpread < 0 || bl.MinSpread > 1 {
			bad("baseline.min_spread", "%g: want a share of the median within 0..1", bl.MinSpread)
		}
		if r.Window > bl.Every {
			bad("window", "%s is longer than baseline.every %s", r.Window, bl.Every)
		}
		r.Baseline = bl
	}
	if sp.NewPattern != nil {
		conds++
		np := sp.NewPattern
		p := &NewPattern{Level: np.Level, MinCount: np.MinCount}
		if p.MinCount == 0 {
			p.MinCount = 1
		}
		if p.Lookback, err = parseDuration(np.Lookback, defaultNewPatternLookbk); err != nil || p.Lookback <= 0 {
			bad("new_pattern.lookback", "%q: want a positive duration (like 7d)", np.Lookback)
		}
		if p.MinCount < 1 {
			bad("new_pattern.min_count", "%d: want >= 1", np.MinCount)
		}
		if sp.View != "patterns" {
			bad("new_pattern", "only the patterns view has patterns (view is %q)", sp.View)
		}
		r.NewPattern = p
	}
	if conds != 1 {
		bad("threshold/baseline/new_pattern", "give exactly one condition, not %d", conds)
	}
	for k := range sp.Labels {
		if !labelName.MatchString(k) || k == "alertname" {
			bad("labels."+k, "not a label name (letters, digits, _; not alertname)")
		}
		if slices.Contains(sp.GroupBy, k) {
			bad("labels."+k, "is also a group_by key")
		}
	}
	r.annotations = map[string]*template.Template{}
	for k, v := range sp.Annotations {
		t, err := template.New(k).Option("missingkey=zero").Parse(v)
		if err != nil {
			bad("annotations."+k, "template: %v", err)
			continue
		}
		// Execute once on a sample, so that a template naming a field
		// that does not exist fails here, not at 3 a.m.
		if err := t.Execute(&bytes.Buffer{}, templateData{Labels: map[string]string{}}); err != nil {
			bad("annotations."+k, "template: %v", err)
			continue
		}
		r.annotations[k] = t
	}
	for _, n := range sp.Notify {
		if notifiers[n] == nil {
			bad("notify", "no notifier named %q (defined: %s)", n, orNone(sortedKeys(notifiers)))
		}
	}
	return r, errs
}

// parseDuration is time.ParseDuration with days (7d, 1d12h); empty is def.
func parseDuration(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	if i := strings.Index(s, "d"); i > 0 {
		days, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		rest := time.Duration(0)
		if s[i+1:] != "" {
			if rest, err = time.ParseDuration(s[i+1:]); err != nil {
				return 0, err
			}
		}
		return time.Duration(days)*24*time.Hour + rest, nil
	}
	return time.ParseDuration(s)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", ")
}
