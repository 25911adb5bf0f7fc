package alerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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
	Alert        Alert
	Status       string // firing or resolved
	Receiver     string
	DashboardURL string
	Now          time.Time
}

// send delivers n to the notifier once; the engine retries.
func send(ctx context.Context, nf *Notifier, n notification, client *http.Client) error {
	switch {
	case nf.Webhook != nil:
		return sendWebhook(ctx, nf.Webhook, n, client)
	case nf.Email != nil:
		return sendEmail(ctx, nf.Email, n)
	}
	return fmt.Errorf("notifier %q has no destination", nf.Name)
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
	start := a.FiredAt
	if start.IsZero() {
		start = a.ActiveSince
	}
	am := WebhookAlert{Status: n.Status, Labels: a.Labels, Annotations: a.Annotations, StartsAt: start,
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
	body, err := json.Marshal(webhookBody(n))
	if err != nil {
		return fmt.Errorf("encode webhook body: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "loglambda-alerts")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.URL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s: %s: %s", w.URL, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
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
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	host := "loglambda"
	if i := strings.LastIndex(e.From, "@"); i >= 0 {
		host = e.From[i+1:]
	}
	hdr := []struct{ k, v string }{
		{"From", e.From},
		{"To", strings.Join(e.To, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", subject(n))},
		{"Date", n.Now.Format(time.RFC1123Z)},
		{"Message-ID", fmt.Sprintf("<%s@%s>", hex.EncodeToString(id), host)},
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
