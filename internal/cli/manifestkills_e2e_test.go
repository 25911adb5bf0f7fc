package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/loglambda/loglambda/internal/testkit"
)

// killMode is where, around the manifest's PUT, a run is killed.
type killMode string

const (
	// killBefore: the PUT reached the network, the server never sees it.
	killBefore killMode = "before"
	// killTruncated: the server gets half of the PUT's body, then the
	// connection closes (the writer died while sending).
	killTruncated killMode = "truncated"
	// killCommitted: the server stored the new manifest; the writer dies
	// before it reads the answer.
	killCommitted killMode = "committed"
	// killAfter: the writer got the answer and dies right after.
	killAfter killMode = "after"
)

// manifestProxy is an HTTP proxy in front of the S3 server that counts
// the PUTs of the lake's manifest and, at the PUT a test aims at, kills
// the writer at a chosen moment around it. Everything else goes through
// as it is (SigV4 signs the Host header: it is kept).
type manifestProxy struct {
	t        *testing.T
	upstream string // http://host:port of the S3 server
	s3       *testkit.S3
	bucket   string

	mu      sync.Mutex
	puts    int      // manifest PUTs of the current run
	aim     int      // the PUT to act on (1-based); 0: none
	mode    killMode // what to do there
	kill    func()   // kills the current run
	hit     bool     // the aimed PUT came
	killed  bool     // and the run was killed there
	before  []byte   // the stored manifest just before it
	sent    []byte   // the body the writer sent in it
	current string   // the manifest's key
}

func (p *manifestProxy) arm(aim int, mode killMode, kill func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.puts, p.aim, p.mode, p.hit, p.killed, p.before, p.sent = 0, aim, mode, false, false, nil, nil
	p.kill = func() {
		kill()
		p.mu.Lock()
		p.killed = true
		p.mu.Unlock()
	}
}

func (p *manifestProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var mode killMode
	var kill func()
	if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/_manifest.json") {
		p.mu.Lock()
		p.puts++
		if p.puts == p.aim {
			mode, kill, p.hit, p.sent = p.mode, p.kill, true, payload(p.t, r.Header, body)
			key := strings.TrimPrefix(r.URL.Path, "/"+p.bucket+"/")
			p.current = key
			p.before, _ = p.s3.Object(p.t, p.bucket, key)
		}
		p.mu.Unlock()
	}
	send := func(b io.Reader) (*http.Response, error) {
		out, err := http.NewRequest(r.Method, p.upstream+r.URL.RequestURI(), b)
		if err != nil {
			return nil, err
		}
		out.Header = r.Header.Clone()
		out.Host = r.Host
		out.ContentLength = int64(len(body))
		return http.DefaultTransport.RoundTrip(out)
	}
	switch mode {
	case killBefore:
		kill()
		return
	case killTruncated:
		kill()
		half := io.MultiReader(bytes.NewReader(body[:len(body)/2]), errReader{})
		if resp, err := send(half); err == nil {
			resp.Body.Close()
			p.t.Errorf("a truncated manifest PUT was answered %s", resp.Status)
		}
		return
	}
	resp, err := send(bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if mode == killCommitted {
		if resp.StatusCode != http.StatusOK {
			p.t.Errorf("the aimed manifest PUT was refused: %s", resp.Status)
		}
		kill()
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
	if mode == killAfter {
		w.(http.Flusher).Flush()
		time.Sleep(20 * time.Millisecond)
		kill()
	}
}

func (p *manifestProxy) wasKilled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killed
}

// payload is the object a PUT's body holds: the body, or without its
// framing when it is signed in chunks (aws-chunked, what minio-go sends
// over plain HTTP: "<hex size>;chunk-signature=...\r\n<data>\r\n", the
// last chunk empty).
func payload(t *testing.T, h http.Header, body []byte) []byte {
	if !strings.HasPrefix(h.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return body
	}
	var out []byte
	for rest := body; ; {
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			t.Errorf("aws-chunked body without a chunk header: %q", rest)
			return nil
		}
		sizeHex, _, _ := bytes.Cut(line, []byte(";"))
		var n int
		if _, err := fmt.Sscanf(string(sizeHex), "%x", &n); err != nil || n > len(after) {
			t.Errorf("aws-chunked chunk header %q: %v", line, err)
			return nil
		}
		if n == 0 {
			return out
		}
		out = append(out, after[:n]...)
		rest = bytes.TrimPrefix(after[n:], []byte("\r\n"))
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("writer killed while sending") }

// TestManifestKillsS3 kills `loglambda batch run` (the built binary)
// with SIGKILL exactly around the manifest's conditional PUT, through a
// proxy in front of a real S3 server (SeaweedFS) that holds the PUT:
// before the server sees it, half sent, stored but unanswered, answered.
// It does so at the first, second and third manifest PUT of a run (the
// compaction's, a merge's, recompute's), with the server's conditional
// writes, then on the same lake with them emulated (--s3-conditional
// off). After each kill
// the manifest is the old one (before, truncated) or exactly the one sent
// (committed, after), and the lake is readable by `loglambda sql`: its
// rows equal its distinct offsets and the offsets the manifest says were
// compacted. A last run completes; the lake then holds every produced
// record once (counted by the broker's end offsets).
func TestManifestKillsS3(t *testing.T) {
	testkit.SkipShort(t, "end-to-end: starts SeaweedFS, the stores, builds the binary")
	t.Parallel() // see "Parallel" in e2e_test.go
	srv := testkit.StartS3Processes(t)
	bin := buildBinary(t)
	ctx := testkit.Context(t, 15*time.Minute)
	_, kafkaAddr, mongoAddr := startStores(t, bin, filepath.Join(t.TempDir(), "data"), 4)
	uri := "mongodb://" + mongoAddr + "/"
	adm := kadm.NewClient(testkit.KafkaClient(t, []string{kafkaAddr}))
	// An hour of traffic per run: each run compacts it (a manifest PUT),
	// merges the hour before it (a second) and recomputes that hour, now
	// complete (a third).
	const (
		rate     = 2
		chunk    = 3600 * rate
		interval = time.Hour
	)
	modes := []killMode{killBefore, killTruncated, killCommitted, killAfter}
	chunks := 2 * (3*len(modes) + 2)
	start := time.Now().UTC().Truncate(time.Hour).Add(-time.Duration(chunks)*interval - 2*time.Hour)
	produced := 0
	produce := func() {
		t.Helper()
		out, err := testkit.Command(bin, "gen", "--brokers", kafkaAddr, "--rate", fmt.Sprint(rate), "--count", fmt.Sprint(chunk),
			"--seed", fmt.Sprint(produced+1), "--late", "0.01", "--start", start.Add(time.Duration(produced)*interval).Format(time.RFC3339)).CombinedOutput()
		if err != nil {
			t.Fatalf("gen chunk %d: %v\n%s", produced, err, out)
		}
		produced++
	}
	// One lake, written first with the server's conditional writes, then
	// with them emulated: the second phase goes on from the first's lake.
	const bucket = "kills"
	srv.Bucket(t, bucket)
	proxy := &manifestProxy{t: t, upstream: srv.Endpoint, s3: srv, bucket: bucket}
	web := httptest.NewServer(proxy)
	defer web.Close()
	location := "s3://" + bucket + "/lake"
	for _, conditional := range []string{"on", "off"} {
		lakeArgs := []string{"--lake", location, "--s3-conditional", conditional}
		run := newProc(t, "batch-"+conditional, bin, append([]string{"batch", "run", "--brokers", kafkaAddr, "--mongo-uri", uri,
			"--mongo-db", "kills", "--s3-endpoint", web.URL, "--lake-cache", filepath.Join(t.TempDir(), "cache")}, lakeArgs...)...)
		run.env = srv.Env
		// readable checks the lake as a reader finds it, straight from
		// the server: rows, distinct offsets, and the offsets compacted.
		readable := func(what string) int64 {
			t.Helper()
			args := append(append([]string{"sql", "--s3-endpoint", srv.Endpoint, "--lake-cache", filepath.Join(t.TempDir(), "sql-cache"),
				"--format", "csv"}, lakeArgs...), `SELECT count(*) AS n, count(DISTINCT (partition, "offset")) AS d FROM logs`)
			cmd := testkit.Command(bin, args...)
			cmd.Env = append(os.Environ(), srv.Env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: the lake is not readable: %v\n%s", what, err, out)
			}
			var n, d int64
			if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "n,d\n%d,%d", &n, &d); err != nil {
				t.Fatalf("%s: sql answered %q", what, out)
			}
			data, _ := srv.Object(t, bucket, "lake/logs/_manifest.json")
			var m struct {
				Partitions map[string]struct {
					NextOffset int64 `json:"next_offset"`
				} `json:"partitions"`
			}
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("%s: manifest: %v", what, err)
			}
			var compacted int64
			for _, p := range m.Partitions {
				compacted += p.NextOffset
			}
			if n != d || n != compacted {
				t.Fatalf("%s: the lake has %d rows, %d distinct offsets; the manifest says %d offsets were compacted", what, n, d, compacted)
			}
			return n
		}
		finish := func(what string) {
			t.Helper()
			run.start()
			// Its log grows while it works: 5 minutes without a line
			// is a stuck run, a slower one is waited for.
			testkit.Await(t, 5*time.Minute, what+": batch run to finish", func() error {
				if run.exited() {
					return nil
				}
				return fmt.Errorf("running, %d bytes of log", len(run.output()))
			})
			if code := run.cmd.ProcessState.ExitCode(); code != 0 {
				t.Fatalf("%s: batch run failed (%d): %s", what, code, lastLine(run.output()))
			}
		}
		produce()
		proxy.arm(0, "", nil)
		finish(conditional + ": first run")
		proxy.mu.Lock()
		t.Logf("%s: the first run made %d manifest PUTs", conditional, proxy.puts)
		proxy.mu.Unlock()
		killed := map[killMode]int{}
		for aim := 1; aim <= 3; aim++ {
			for _, mode := range modes {
				what := fmt.Sprintf("%s: kill %s manifest PUT %d", conditional, mode, aim)
				produce()
				proxy.arm(aim, mode, run.kill)
				run.start()
				testkit.Await(t, 5*time.Minute, what+": batch run to end or be killed", func() error {
					if run.exited() || proxy.wasKilled() {
						return nil
					}
					return fmt.Errorf("running, %d bytes of log", len(run.output()))
				})
				proxy.mu.Lock()
				hit, before, sent, puts := proxy.hit, proxy.before, proxy.sent, proxy.puts
				proxy.mu.Unlock()
				if !hit {
					t.Logf("%s: the run ended after %d manifest PUTs, not killed", what, puts)
					continue
				}
				run.kill()
				now, _ := srv.Object(t, bucket, "lake/logs/_manifest.json")
				switch mode {
				case killBefore, killTruncated:
					if !bytes.Equal(now, before) {
						t.Fatalf("%s: the manifest changed", what)
					}
				default:
					if !bytes.Equal(now, sent) {
						t.Fatalf("%s: the manifest is not the one the killed run sent", what)
					}
				}
				killed[mode]++
				t.Logf("%s: %d rows readable", what, readable(what))
			}
		}
		for _, mode := range modes {
			if killed[mode] < 2 {
				t.Errorf("%s: only %d kills %s a manifest PUT", conditional, killed[mode], mode)
			}
		}
		proxy.arm(0, "", nil)
		finish(conditional + ": the run after the kills")
		ends, err := adm.ListEndOffsets(ctx, "logs")
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
		if total != int64(produced*chunk) {
			t.Fatalf("the topic holds %d records, %d were produced", total, produced*chunk)
		}
		if got := readable(conditional + ": after the last run"); got != total {
			t.Fatalf("%s: the lake holds %d records, the topic %d", conditional, got, total)
		}
		t.Logf("%s: %v kills; the lake holds the %d records once", conditional, killed, total)
	}
}
