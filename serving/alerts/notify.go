package alerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"sort"
	"strings"
	"time"
)

// notification is what a notifier is told: one alert's transition.
type notification struct {
	Alert Alert
	// ID is the notification's stable id (collections.NotificationID).
	ID           string
	Status       string // firing or resolved
	Receiver     string
	DashboardURL string
	Now          time.Time
	// ValidFor is how long Alertmanager keeps a firing alert not re-sent.
	ValidFor time.Duration
}

// NotificationHeader is the HTTP header of a webhook's or Alertmanager's
// request that carries the notification's stable id; a resend after a
// crash carries the same, so a receiver may deduplicate on it. Mail
// carries it as its Message-ID.
const NotificationHeader = "Idempotency-Key"

// send delivers n to the notifier once; the engine retries.
func send(ctx context.Context, nf *Notifier, n notification, client *http.Client, log *slog.Logger) error {
	switch {
	case nf.Webhook != nil:
		return sendWebhook(ctx, nf.Webhook, n, client)
	case nf.Email != nil:
		return sendEmail(ctx, nf.Email, n)
	case nf.Alertmanager != nil:
		return sendAlertmanager(ctx, nf.Alertmanager, n, client)
	case nf.Log:
		a := n.Alert
		log.Info("alert "+n.Status, "rule", a.Rule, "labels", a.Labels, "value", a.Value,
			"summary", a.Annotations["summary"], "starts_at", startsAt(a), "notifier", n.Receiver, "id", n.ID)
		return nil
	}
	return fmt.Errorf("notifier %q has no destination", nf.Name)
}

// startsAt is when an alert started for its receivers: when it fired,
// the same in its firing and its resolved notification.
func startsAt(a Alert) time.Time {
	if a.FiredAt.IsZero() {
		return a.ActiveSince
	}
	return a.FiredAt
}

// PostableAlert is one alert of Alertmanager's v2 API body (POST
// /api/v2/alerts takes a list of them, "PostableAlerts").
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// postableAlerts is the body pushed to Alertmanager for n: while firing,
// endsAt ValidFor ahead (Prometheus's rule, so an alert loglambda stops
// re-sending ends by itself); resolved, endsAt the resolution.
func postableAlerts(n notification) []PostableAlert {
	a := n.Alert
	pa := PostableAlert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: startsAt(a),
		EndsAt: n.Now.Add(n.ValidFor), GeneratorURL: dashboardLink(n.DashboardURL)}
	if n.Status == StateResolved {
		pa.EndsAt = a.ResolvedAt
	}
	return []PostableAlert{pa}
}

func sendAlertmanager(ctx context.Context, am *AlertmanagerConfig, n notification, client *http.Client) error {
	u := am.URL
	if !strings.HasSuffix(u, "/api/v2/alerts") {
		u += "/api/v2/alerts"
	}
	return postJSON(ctx, "alertmanager", u, am.Timeout, postableAlerts(n), n.ID, client)
}

// postJSON posts v as JSON with the notification's id; anything but a 2xx
// answer is an error quoting the answer's start.
func postJSON(ctx context.Context, what, u string, timeout time.Duration, v any, id string, client *http.Client) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s body: %w", what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, u, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "loglambda-alerts")
	if id != "" {
		req.Header.Set(NotificationHeader, id)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, u, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", what, u, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// WebhookMessage and WebhookAlert are the body a webhook notifier posts:
// Alertmanager's webhook body (version 4), so that anything fed by
// Alertmanager's webhook_config can be fed by this, and a Go receiver can
// decode it with these types.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

type WebhookMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
}

// webhookBody is the Alertmanager webhook message of one transition: a
// group of one alert, grouped by alertname.
func webhookBody(n notification) WebhookMessage {
	a := n.Alert
	am := WebhookAlert{Status: n.Status, Labels: a.Labels, Annotations: a.Annotations, StartsAt: startsAt(a),
		GeneratorURL: dashboardLink(n.DashboardURL), Fingerprint: a.Fingerprint}
	if n.Status == StateResolved {
		am.EndsAt = a.ResolvedAt
	}
	if am.Annotations == nil {
		am.Annotations = map[string]string{}
	}
	return WebhookMessage{
		Version:           "4",
		GroupKey:          fmt.Sprintf("{}:{alertname=%q}", a.Labels["alertname"]),
		Status:            n.Status,
		Receiver:          n.Receiver,
		GroupLabels:       map[string]string{"alertname": a.Labels["alertname"]},
		CommonLabels:      a.Labels,
		CommonAnnotations: am.Annotations,
		ExternalURL:       n.DashboardURL,
		Alerts:            []WebhookAlert{am},
	}
}

func sendWebhook(ctx context.Context, w *WebhookConfig, n notification, client *http.Client) error {
	return postJSON(ctx, "webhook", w.URL, w.Timeout, webhookBody(n), n.ID, client)
}

// subject is the mail subject: state, rule and the labels that tell this
// alert from the rule's others, as Alertmanager's default template does.
func subject(n notification) string {
	a := n.Alert
	var parts []string
	for _, k := range sortedKeys(a.Labels) {
		if k != "alertname" {
			parts = append(parts, k+"="+a.Labels[k])
		}
	}
	s := fmt.Sprintf("[%s] %s", strings.ToUpper(n.Status), a.Rule)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, " ") + ")"
	}
	return s
}

// mailBody is the plain-text body: summary first, then every annotation,
// the labels, the times and the dashboard link.
func mailBody(n notification) string {
	a := n.Alert
	var b strings.Builder
	if s := a.Annotations["summary"]; s != "" {
		fmt.Fprintf(&b, "%s\n\n", s)
	}
	fmt.Fprintf(&b, "Alert:    %s\nState:    %s\nValue:    %g\n", a.Rule, n.Status, a.Value)
	if !a.FiredAt.IsZero() {
		fmt.Fprintf(&b, "Firing since: %s\n", fmtTime(a.FiredAt))
	}
	if n.Status == StateResolved {
		fmt.Fprintf(&b, "Resolved at:  %s\n", fmtTime(a.ResolvedAt))
	}
	if len(a.Annotations) > 0 {
		b.WriteString("\nAnnotations:\n")
		keys := sortedKeys(a.Annotations)
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s: %s\n", k, a.Annotations[k])
		}
	}
	b.WriteString("\nLabels:\n")
	for _, k := range sortedKeys(a.Labels) {
		fmt.Fprintf(&b, "  %s = %s\n", k, a.Labels[k])
	}
	if n.DashboardURL != "" {
		fmt.Fprintf(&b, "\nDashboard: %s\n", dashboardLink(n.DashboardURL))
	}
	return b.String()
}

// dashboardLink points at the alerts panel of the dashboard.
func dashboardLink(base string) string {
	if base == "" {
		return ""
	}
	return strings.TrimSuffix(base, "#alerts") + "#alerts"
}

// message is the RFC 5322 message of n, lines ending in CRLF.
func message(e *EmailConfig, n notification) []byte {
	// The Message-ID is the notification's: a resend after a crash is
	// the same message to a mail client that deduplicates.
	id := sha256.Sum256([]byte(n.ID))
	if n.ID == "" {
		_, _ = rand.Read(id[:])
	}
	host := "loglambda"
	if i := strings.LastIndex(e.From, "@"); i >= 0 {
		host = e.From[i+1:]
	}
	hdr := []struct{ k, v string }{
		{"From", e.From},
		{"To", strings.Join(e.To, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", subject(n))},
		{"Date", n.Now.Format(time.RFC1123Z)},
		{"Message-ID", fmt.Sprintf("<%s@%s>", hex.EncodeToString(id[:16]), host)},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "8bit"},
		{"X-Loglambda-Alert", n.Alert.Fingerprint},
	}
	var b bytes.Buffer
	for _, h := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", h.k, h.v)
	}
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(mailBody(n), "\n", "\r\n"))
	return b.Bytes()
}

// sendEmail sends n through the SMTP server: STARTTLS unless turned off
// (and then required: a server that does not offer it fails the delivery),
// PLAIN authentication when a username is set.
func sendEmail(ctx context.Context, e *EmailConfig, n notification) error {
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	host, _, _ := net.SplitHostPort(e.SMTP)
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", e.SMTP)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", e.SMTP, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", e.SMTP, err)
	}
	defer c.Close()
	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("smtp %s: %s: %w", e.SMTP, what, err)
		}
		return nil
	}
	if err := step("hello", c.Hello("localhost")); err != nil {
		return err
	}
	if e.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp %s: the server does not offer STARTTLS (set starttls: false to send in the clear)", e.SMTP)
		}
		tc, err := tlsConfig(e, host)
		if err != nil {
			return err
		}
		if err := step("starttls", c.StartTLS(tc)); err != nil {
			return err
		}
	}
	if e.Username != "" {
		if err := step("auth", c.Auth(smtp.PlainAuth("", e.Username, e.Password, host))); err != nil {
			return err
		}
	}
	if err := step("mail from", c.Mail(e.From)); err != nil {
		return err
	}
	for _, to := range e.To {
		if err := step("rcpt to "+to, c.Rcpt(to)); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err := step("data", err); err != nil {
		return err
	}
	if _, err := w.Write(message(e, n)); err != nil {
		return step("data", err)
	}
	if err := step("data", w.Close()); err != nil {
		return err
	}
	return step("quit", c.Quit())
}

func tlsConfig(e *EmailConfig, host string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: host, InsecureSkipVerify: e.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if e.CAFile != "" {
		pem, err := os.ReadFile(e.CAFile)
		if err != nil {
			return nil, fmt.Errorf("smtp %s: ca_file: %w", e.SMTP, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smtp %s: ca_file %s holds no PEM certificate", e.SMTP, e.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
