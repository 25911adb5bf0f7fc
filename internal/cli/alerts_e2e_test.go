package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
)

// told is what the demo's receivers got: per notifier, status and
// instance, the firing and resolved notifications.
type told struct {
	mu   sync.Mutex
	seen map[string]int // "webhook firing db-2" -> count
}

func (r *told) add(notifier, status, instance string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[notifier+" "+status+" "+instance]++
}

func (r *told) count(notifier, status, instance string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[notifier+" "+status+" "+instance]
}

func (r *told) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprint(r.seen)
}

// TestUpAlertsRestartWhileFiring runs the built binary as the issue's
// check does: `up --demo` with its rule file, pointed by the environment
// at a webhook receiver and at Debian's aiosmtpd, both on loopback. When
// the demo's error burst fires, up is killed (SIGKILL: no lease released,
// nothing flushed) and started again on the same data; the new process
// takes the lease over at once (the lease names the killed process, which
// no longer runs), finds the alert firing in MongoDB and sends nothing
// twice: one firing notification per receiver for the instance.
func TestUpAlertsRestartWhileFiring(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds the binary, runs up --demo twice and waits for its error burst")
	}
	t.Parallel() // see "Parallel" in e2e_test.go
	const py = "/usr/bin/python3"
	if err := testkit.Command(py, "-c", "import aiosmtpd").Run(); err != nil {
		t.Fatalf("Debian's python3-aiosmtpd is needed (ci/test.sh installs it): %v", err)
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	got := &told{seen: map[string]int{}}

	// The webhook receiver reads the Alertmanager body by its documented
	// keys.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Status string `json:"status"`
			Alerts []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || len(m.Alerts) != 1 {
			t.Errorf("webhook body: %v %+v", err, m)
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		got.add("webhook", m.Status, m.Alerts[0].Labels["instance"])
	}))
	defer hook.Close()

	// aiosmtpd -n prints every message; the subject names the state and
	// the instance: "[FIRING] InstanceErrorBurst (instance=db-2 ...)".
	smtpAddr := testkit.FreeAddr(t)
	smtpd := testkit.Command(py, "-u", "-m", "aiosmtpd", "-n", "-l", smtpAddr)
	smtpOut, err := smtpd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	smtpd.Stderr = os.Stderr
	if err := smtpd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { testkit.Kill(smtpd); _ = smtpd.Wait() }()
	go func() {
		sc := bufio.NewScanner(smtpOut)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "Subject: [") {
				continue
			}
			status := strings.ToLower(line[len("Subject: ["):strings.Index(line, "]")])
			inst := ""
			if i := strings.Index(line, "instance="); i >= 0 {
				inst = strings.Fields(strings.TrimRight(line[i+len("instance="):], ")"))[0]
			}
			got.add("mail", status, inst)
		}
	}()

	httpAddr := testkit.FreeAddr(t)
	base := "http://" + httpAddr
	args := []string{"up", "--demo", "--data", filepath.Join(dir, "data"), "--demo-history", "10m",
		"--alert-every", "2s", "--kafka-listen", testkit.FreeAddr(t), "--mongo-listen", testkit.FreeAddr(t),
		"--http", httpAddr, "--grpc", testkit.FreeAddr(t)}
	env := append(os.Environ(), "LOGLAMBDA_DEMO_WEBHOOK_URL="+hook.URL+"/alerts", "LOGLAMBDA_DEMO_SMTP="+smtpAddr)
	var logs []*bytes.Buffer
	start := func() *exec.Cmd {
		cmd := testkit.Command(bin, args...)
		cmd.Env = env
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		logs = append(logs, out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	var running *exec.Cmd
	defer func() {
		if running != nil {
			testkit.Kill(running)
			_ = running.Wait()
		}
		if t.Failed() {
			for i, l := range logs {
				t.Logf("up run %d:\n%s", i+1, l)
			}
		}
	}()

	type alertsBody struct {
		Alerts []struct {
			ID     string            `json:"id"`
			State  string            `json:"state"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	running = start()
	// The demo's burst starts two minutes after up; its alert fires within
	// seconds and both receivers are told.
	var firing struct{ id, instance string }
	waitFor(t, 5*time.Minute, "the demo's error burst firing, told by webhook and mail", func() error {
		var a alertsBody
		if err := tryGetJSON(base, "/v1/alerts", &a); err != nil {
			return err
		}
		for _, al := range a.Alerts {
			if al.State == "firing" && got.count("webhook", "firing", al.Labels["instance"]) > 0 && got.count("mail", "firing", al.Labels["instance"]) > 0 {
				firing.id, firing.instance = al.ID, al.Labels["instance"]
				return nil
			}
		}
		return fmt.Errorf("alerts %+v, told %s", a.Alerts, got)
	})
	time.Sleep(5 * time.Second) // two more evaluations while firing
	killedAt := time.Now()
	if err := running.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = running.Wait()
	t.Logf("killed up while %s fired (%s); told %s", firing.instance, firing.id, got)

	running = start()
	type rulesBody struct {
		Evaluator   string    `json:"evaluator"`
		EvaluatedAt time.Time `json:"evaluated_at"`
		Holder      string    `json:"holder"`
		Holding     bool      `json:"holding"`
	}
	var rules rulesBody
	waitFor(t, 3*time.Minute, "the restarted up evaluating", func() error {
		if err := tryGetJSON(base, "/v1/rules", &rules); err != nil {
			return err
		}
		if !rules.Holding || rules.Evaluator != rules.Holder || !rules.EvaluatedAt.After(killedAt) {
			return fmt.Errorf("rules %+v", rules)
		}
		return nil
	})
	took := time.Since(killedAt)
	// Twenty more seconds of evaluations: ten every 2s.
	time.Sleep(20 * time.Second)
	var a alertsBody
	getJSON(t, base, "/v1/alerts", &a)
	state := ""
	for _, al := range a.Alerts {
		if al.ID == firing.id {
			state = al.State
		}
	}
	t.Logf("restarted: evaluating %s after the kill (holder %s); alert %s %s; told %s", took.Round(time.Second), rules.Holder, firing.id, state, got)
	if state == "" {
		t.Errorf("alert %s is no longer listed: %+v", firing.id, a.Alerts)
	}
	for _, n := range []string{"webhook", "mail"} {
		if c := got.count(n, "firing", firing.instance); c != 1 {
			t.Errorf("%s told %d firing notifications for %s, want 1 (told %s)", n, c, firing.instance, got)
		}
		want := 0
		if state == "resolved" {
			want = 1
		}
		if c := got.count(n, "resolved", firing.instance); c != want {
			t.Errorf("%s told %d resolutions for %s, alert %s (told %s)", n, c, firing.instance, state, got)
		}
	}
	interrupt(t, running) // waits for the process: its log is whole
	running = nil
	// The killed process's lease named it: the restarted one saw that
	// process gone and took the lease at once instead of after its ttl.
	if !strings.Contains(logs[1].String(), "alert lease taken before its expiry") {
		t.Errorf("the restarted up did not take the killed one's lease early; its log:\n%s", logs[1])
	}
}
