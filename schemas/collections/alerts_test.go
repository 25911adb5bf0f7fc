package collections

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// TestFingerprint: the fingerprint is Alertmanager's, computed here by
// prometheus/common's model.LabelSet, the code Alertmanager runs.
func TestFingerprint(t *testing.T) {
	for _, labels := range []map[string]string{
		{},
		{"alertname": "InstanceErrorBurst"},
		{"alertname": "InstanceErrorBurst", "instance": "db-1", "level": "ERROR", "severity": "page"},
		{"alertname": "x", "a": "", "b": "é\xff"},
		{"alertname": "NewErrorPattern", "pattern": "a1734a44d15071a7", "level": "ERROR"},
	} {
		ls := model.LabelSet{}
		for k, v := range labels {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		want := ls.Fingerprint().String()
		if got := Fingerprint(labels); got != want {
			t.Errorf("Fingerprint(%v) = %s, want %s", labels, got, want)
		}
	}
	if a, b := Fingerprint(map[string]string{"a": "bc"}), Fingerprint(map[string]string{"ab": "c"}); a == b {
		t.Errorf("a=bc and ab=c share the fingerprint %s", a)
	}
	if got := NotificationID(AlertID("R", "00ff", mustTime(t)), AlertFiring, "pager"); got != fmt.Sprintf("alert|R|00ff|%d|firing|pager", mustTime(t).Unix()) {
		t.Errorf("NotificationID = %s", got)
	}
}

func mustTime(t *testing.T) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, "2026-12-07T04:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	return at
}
