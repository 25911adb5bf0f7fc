// Package browser measures what a page's API requests cost in a real
// browser: it opens the page in headless Chromium, lets it run in real
// time (no virtual time, whose clock is not the wall's), and reads the
// Performance API's Resource Timing of its requests over the DevTools
// protocol on a pipe (--remote-debugging-pipe: fd 3 in, fd 4 out, each
// message JSON ended by a NUL byte), so no WebSocket client is needed.
// ci/scale.sh (through internal/pagetimings) and the dashboard's browser
// test print them.
package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/loglambda/loglambda/base/proc"
)

// Timing is one request's Resource Timing: its URL, its duration (from
// the request's start to the response's end) and the wait (from sending
// the request to the response's first byte, the server's part), in ms.
type Timing struct {
	URL      string  `json:"name"`
	Duration float64 `json:"duration"`
	Wait     float64 `json:"wait"`
}

// Args are the flags of a headless, offline, throwaway Chromium (beside
// its --user-data-dir).
var Args = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900"}

// ResourceTimings opens url in chromium, waits until the page has made a
// request to each of want (substrings of the URLs, e.g. "/v1/traffic") or
// until settle has passed since it opened, then returns the Resource
// Timing of every request whose URL contains filter, in the order made.
func ResourceTimings(ctx context.Context, chromium, url, filter string, want []string, settle time.Duration) ([]Timing, error) {
	profile, err := os.MkdirTemp("", "loglambda-chromium")
	if err != nil {
		return nil, fmt.Errorf("chromium profile: %w", err)
	}
	defer os.RemoveAll(profile)
	in, toChrome, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	fromChrome, out, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, chromium, append(Args, "--user-data-dir="+profile, "--remote-debugging-pipe", "about:blank")...)
	proc.Bind(cmd)                       // chromium and its helpers end with this process
	cmd.ExtraFiles = []*os.File{in, out} // fds 3 and 4
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", chromium, err)
	}
	in.Close()
	out.Close()
	defer func() {
		toChrome.Close()
		proc.KillGroup(cmd)
		cmd.Wait()
		fromChrome.Close()
	}()
	c := &cdp{w: toChrome, r: bufio.NewReader(fromChrome)}
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := c.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, fmt.Errorf("open %s: %w (chromium: %s)", url, err, lastLine(stderr.String()))
	}
	var session struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &session); err != nil {
		return nil, fmt.Errorf("attach to %s: %w", url, err)
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := c.call(session.SessionID, "Page.navigate", map[string]any{"url": url}, &nav); err != nil || nav.ErrorText != "" {
		return nil, fmt.Errorf("open %s: %v%s", url, err, nav.ErrorText)
	}
	wantJSON, _ := json.Marshal(want)
	// Resolves once every wanted request has an entry (complete), or
	// after settle.
	expr := fmt.Sprintf(`new Promise((done) => {
  const want = %s, filter = %q, end = Date.now() + %d;
  const get = () => performance.getEntriesByType("resource").filter((e) => e.name.includes(filter))
    .map((e) => ({name: e.name, duration: e.duration, wait: e.responseStart > 0 ? e.responseStart - e.requestStart : 0}));
  const poll = () => {
    const got = get();
    if (Date.now() > end || want.every((w) => got.some((e) => e.name.includes(w)))) done(JSON.stringify(got));
    else setTimeout(poll, 100);
  };
  poll();
})`, wantJSON, filter, settle.Milliseconds())
	var res struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	// The page's context may still be replaced as it commits: retry.
	for try := 0; ; try++ {
		err := c.call(session.SessionID, "Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}, &res)
		if err == nil {
			break
		}
		if try == 20 {
			return nil, fmt.Errorf("read timings of %s: %v (20 tries)", url, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if res.ExceptionDetails != nil {
		return nil, fmt.Errorf("read timings of %s: %s", url, res.ExceptionDetails.Text)
	}
	var ts []Timing
	if err := json.Unmarshal([]byte(res.Result.Value), &ts); err != nil {
		return nil, fmt.Errorf("read timings of %s: %w", url, err)
	}
	return ts, nil
}

// cdp is a DevTools protocol client over Chromium's pipe.
type cdp struct {
	w  io.Writer
	r  *bufio.Reader
	id int
}

// call sends method with params (to the session, if any) and decodes the
// answer's result into result, skipping the events sent meanwhile.
func (c *cdp) call(session, method string, params map[string]any, result any) error {
	c.id++
	msg := map[string]any{"id": c.id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := c.w.Write(append(data, 0)); err != nil {
		return fmt.Errorf("send %s: %w", method, err)
	}
	for {
		raw, err := c.r.ReadBytes(0)
		if err != nil {
			return fmt.Errorf("answer to %s: %w", method, err)
		}
		var ans struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(raw[:len(raw)-1], &ans); err != nil {
			return fmt.Errorf("answer to %s: %w", method, err)
		}
		if ans.ID != c.id {
			continue // an event, or an answer to nothing we wait for
		}
		if ans.Error != nil {
			return errors.New(method + ": " + ans.Error.Message)
		}
		return json.Unmarshal(ans.Result, result)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
