package cli

import (
	"bytes"
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/lakefiles"
	"github.com/loglambda/loglambda/serving"
)

// lockedBuffer is a process's output, read while the process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestReparseKilled changes the ingest rules with --new-generation (the
// hot term from the q parameter to tag, the visitor from the user to the
// client IP) over a lake of three hours, and kills `loglambda batch run`
// with SIGKILL at growing delays after it starts re-parsing the lake,
// until one run ends by itself: after every kill the lake's manifest
// names files holding each record once, and at the end every file is
// under the new rules and the hot terms over the recomputed hours equal
// the tags counted from the lines.
func TestReparseKilled(t *testing.T) {
	testkit.SkipShort(t, "batch runs over 30,000 lines, killed")
	const topic = "logs"
	bin := buildBinary(t)
	k := testkit.Kafka(t, topic, 2)
	m := testkit.Mongo(t, embedded.MongoConfig{})
	ctx := testkit.Context(t, 5*time.Minute)
	now := time.Now().UTC()
	start := now.Truncate(time.Hour).Add(-3 * time.Hour)
	cl := testkit.KafkaClient(t, k.Addrs(), kgo.DefaultProduceTopic(topic))
	defer cl.Close()
	type line struct {
		ts      time.Time
		q, tag  string
		user, i string
	}
	const n = 30000
	step := now.Add(-2*time.Minute).Sub(start) / n
	lines := make([]line, n)
	recs := make([]*kgo.Record, n)
	for i := range lines {
		l := line{ts: start.Add(time.Duration(i) * step).Truncate(time.Millisecond), q: fmt.Sprintf("q%d", i%13),
			user: fmt.Sprintf("u%d", i%17), i: fmt.Sprintf("10.0.%d.%d", i%3, i%59)}
		query := "q=" + l.q
		if i%4 != 0 {
			l.tag = fmt.Sprintf("t%d", i%9)
			query += "&tag=" + l.tag
		}
		lines[i] = l
		recs[i] = &kgo.Record{Key: []byte(l.user), Value: []byte(fmt.Sprintf(`{"ts":%q,"user":%q,"ip":%q,"path":"/s","query":%q,"status":200,"bytes":%d}`,
			l.ts.Format(time.RFC3339Nano), l.user, l.i, query, 100+i%1000))}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	lake := t.TempDir()
	common := []string{"--brokers", strings.Join(k.Addrs(), ","), "--mongo-uri", m.URI(), "--mongo-db", "reparse",
		"--format", "json", "--lake", lake}
	one := []string{"--hot-term", "param:q", "--uv-field", "user"}
	two := []string{"--hot-term", "param:tag", "--uv-field", "ip"}
	var out, errOut bytes.Buffer
	if code := Main(ctx, append(append([]string{"batch", "run"}, one...), common...), &out, &errOut); code != 0 {
		t.Fatalf("batch run: exit %d: %s", code, errOut.String())
	}

	// lakeRows reads the files the manifest names with DuckDB: rows,
	// distinct offsets, and files by rules.
	lakeRows := func() (rows, distinct int64, rules map[string]int) {
		t.Helper()
		_, files, err := lakefiles.List(lake, topic)
		if err != nil {
			t.Fatal(err)
		}
		rules = map[string]int{}
		var paths []string
		for _, f := range files {
			rules[f.Rules]++
			paths = append(paths, "'"+filepath.Join(lake, topic, filepath.FromSlash(f.Path))+"'")
		}
		db, err := sql.Open("duckdb", "")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		q := fmt.Sprintf(`SELECT count(*), count(DISTINCT ("partition", "offset")) FROM read_parquet([%s], union_by_name = true)`, strings.Join(paths, ", "))
		if err := db.QueryRowContext(ctx, q).Scan(&rows, &distinct); err != nil {
			t.Fatal(err)
		}
		return rows, distinct, rules
	}

	// The new generation, killed until a run ends by itself.
	args := append(append([]string{"batch", "run", "--new-generation"}, two...), common...)
	midway, kills := 0, 0
	for delay := time.Duration(0); ; delay += 200 * time.Millisecond {
		var buf lockedBuffer
		cmd := testkit.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var err error
		killed := false
	wait:
		for {
			select {
			case err = <-exited:
				break wait
			case <-time.After(5 * time.Millisecond):
			}
			if strings.Contains(buf.String(), "re-parsing their raw lines") {
				time.Sleep(delay)
				testkit.Kill(cmd)
				err = <-exited
				killed = true
				break
			}
		}
		if !killed {
			if err != nil {
				t.Fatalf("batch run after %d kills: %v\n%s", kills, err, buf.String())
			}
			break
		}
		kills++
		rows, distinct, rules := lakeRows()
		if rows != n || distinct != n {
			t.Fatalf("after kill %d (%s after the re-parse began): the manifest's files hold %d rows, %d distinct offsets, want %d",
				kills, delay, rows, distinct, n)
		}
		if len(rules) > 1 {
			midway++
		}
		if kills > 40 {
			t.Fatalf("40 runs killed and the re-parse not done")
		}
	}
	rows, distinct, rules := lakeRows()
	t.Logf("%d runs killed after the re-parse began (%d with the lake under both rules), then one ran to its end: files under %d rules, %d rows",
		kills, midway, len(rules), rows)
	if rows != n || distinct != n || len(rules) != 1 {
		t.Fatalf("at the end: %d rows, %d distinct offsets, files by rules %v; want %d rows under one rules", rows, distinct, rules, n)
	}
	if kills == 0 {
		t.Errorf("no run was killed in the re-parse")
	}

	// The hot terms of batch's hours: the tags of the lines before the
	// horizon.
	srv, err := serving.New(testkit.Client(t, m.URI()).Database("reparse"), serving.Topic(topic))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	srvHot, err := srv.Hot(serving.HotQuery{Range: serving.Range{From: start, To: now.Add(time.Minute)}, K: 1000})
	if err != nil {
		t.Fatal(err)
	}
	horizon := srvHot.BatchHorizon
	got := map[string]int64{}
	for _, tc := range srvHot.Terms {
		got[tc.Term] = tc.Count
	}
	want := map[string]int64{}
	for _, l := range lines {
		if l.ts.Before(horizon) && l.tag != "" {
			want[l.tag]++
		}
	}
	if horizon.Before(start.Add(2*time.Hour)) || !maps.Equal(got, want) {
		t.Fatalf("hot over batch's hours (horizon %s): %v, want the tags %v", horizon, got, want)
	}
}
