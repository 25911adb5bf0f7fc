package batch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
	"github.com/loglambda/loglambda/schemas/ingest"
	"github.com/loglambda/loglambda/schemas/views"
)

// accessLine is one generated access-log line and what the test knows of
// it without parsing: its pane, query parameters and client.
type accessLine struct {
	partition int32
	at        time.Time
	q, tag    string // "" when the line has no such parameter
	user, ip  string
	malformed bool
	header    bool // shipped with a format header, as ship does
	value     []byte
}

// accessLines generates n lines over the three hours from base: half
// combined-format lines with a format header (combined, as ship sends
// them), half JSON lines without one (a producer that names no format,
// read with the consumer's --format); every 4th has a user, every 5th no
// tag parameter, every 97th is no log line at all (a parse error under
// any rules).
func accessLines(n int) []accessLine {
	out := make([]accessLine, n)
	for i := range out {
		l := &out[i]
		l.partition = int32(i % 4)
		l.at = base.Add(time.Duration(int64(3*time.Hour) * int64(i) / int64(n))).Truncate(time.Second)
		l.header = i%2 == 0
		l.ip = fmt.Sprintf("10.1.%d.%d", i%3, i%41)
		l.user = "-"
		if i%4 == 0 {
			l.user = fmt.Sprintf("u%d", i%13)
		}
		l.q = fmt.Sprintf("term%d", i%11)
		query := "q=" + l.q
		if i%5 != 0 {
			l.tag = fmt.Sprintf("t%d", i%7)
			query += "&tag=" + l.tag
		}
		if i%97 == 0 {
			l.malformed = true
			l.value = []byte(fmt.Sprintf("not an access line %d", i))
			continue
		}
		if !l.header {
			l.value = []byte(fmt.Sprintf(`{"ts":%q,"ip":%q,"user":%q,"path":"/search","query":%q,"status":200,"bytes":%d}`,
				l.at.Format(time.RFC3339), l.ip, l.user, query, 100+i%500))
			continue
		}
		l.value = []byte(fmt.Sprintf(`%s - %s [%s] "GET /search?%s HTTP/1.1" 200 %d "-" "test"`,
			l.ip, l.user, l.at.Format("02/Jan/2006:15:04:05 -0700"), query, 100+i%500))
	}
	return out
}

// paneWant is what a pane's batch documents must say under a set of rules.
type paneWant struct {
	pv    int64
	terms map[string]int64
	uv    map[string]bool
}

// wantPanes counts, per minute pane, the hot terms by term and visitors
// by visitor of the lines that parse: the rules' meaning written out for
// these lines.
func wantPanes(lines []accessLine, parses func(accessLine) bool, term func(accessLine) string, visitor func(accessLine) string) map[time.Time]*paneWant {
	out := map[time.Time]*paneWant{}
	for _, l := range lines {
		if l.malformed || !parses(l) {
			continue
		}
		t := l.at.Truncate(time.Minute)
		p := out[t]
		if p == nil {
			p = &paneWant{terms: map[string]int64{}, uv: map[string]bool{}}
			out[t] = p
		}
		p.pv++
		if s := term(l); s != "" {
			p.terms[s]++
		}
		p.uv[visitor(l)] = true
	}
	return out
}

// checkPanes compares the batch documents of hot and traffic with want,
// and that every one is of generation gen.
func (s *stack) checkPanes(want map[time.Time]*paneWant, gen int64) {
	s.t.Helper()
	got := map[time.Time]*views.Pane{}
	for _, view := range []string{"hot", "traffic"} {
		for _, d := range testkit.All[collections.Doc](s.t, s.db.Collection(collections.BatchCollection(view))) {
			if g := collections.CurrentGeneration(d.Generation); g != gen {
				s.t.Errorf("doc %s: generation %d, want %d", d.ID, g, gen)
			}
			p := got[d.Pane.UTC()]
			if p == nil {
				p = views.NewPane(0)
				got[d.Pane.UTC()] = p
			}
			if err := p.Decode(view, d.State); err != nil {
				s.t.Fatalf("doc %s: %v", d.ID, err)
			}
		}
	}
	if len(got) != len(want) {
		s.t.Errorf("%d panes in the batch documents, want %d", len(got), len(want))
	}
	bad := 0
	for _, t := range slices.SortedFunc(maps.Keys(want), time.Time.Compare) {
		w, g := want[t], got[t]
		if g == nil {
			s.t.Errorf("pane %s: no batch documents", t.Format(time.RFC3339))
			continue
		}
		terms := map[string]int64{}
		for _, tc := range g.Hot.Top(0) {
			terms[tc.Term] = tc.Count
		}
		if (!reflect.DeepEqual(terms, w.terms) || g.Traffic.PV != w.pv || g.Traffic.ExactUV != int64(len(w.uv))) && bad < 5 {
			bad++
			s.t.Errorf("pane %s: hot %v pv %d uv %d, want hot %v pv %d uv %d", t.Format(time.RFC3339),
				terms, g.Traffic.PV, g.Traffic.ExactUV, w.terms, w.pv, len(w.uv))
		}
	}
}

// manifestRows counts the rows and distinct (partition, offset) of the
// files the manifest names, read with DuckDB: the lake as every reader
// sees it, whatever else lies on disk.
func (s *stack) manifestRows(ctx context.Context) (rows, distinct int64) {
	s.t.Helper()
	root := s.lakeDir
	if s.s3 != nil {
		root = s.mirror()
	}
	var paths []string
	for _, f := range s.manifest().Files {
		paths = append(paths, filepath.Join(root, "logs", filepath.FromSlash(f.Path)))
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	q := fmt.Sprintf(`SELECT count(*), count(DISTINCT ("partition", "offset")) FROM read_parquet(%s)`, sqlStringList(paths))
	if err := db.QueryRowContext(ctx, q).Scan(&rows, &distinct); err != nil {
		s.t.Fatalf("%s: %v", q, err)
	}
	return rows, distinct
}

// TestReparse runs batch with one format, hot term and visitor rule, then
// a new generation with others (--format json instead of combined, so the
// JSON lines without a format header parse, where they were parse errors
// at their ingest time; the tag parameter instead of q; the client IP
// instead of the user): the re-parse is killed after its first hour, the
// lake stays whole, and the next run completes it; the batch documents
// then count, pane by pane, the tags and IPs of every generated line.
func TestReparse(t *testing.T) { testReparse(t, newStack(t)) }

// TestReparseS3 is TestReparse with the lake in S3 (SeaweedFS).
func TestReparseS3(t *testing.T) {
	testkit.SkipShort(t, "starts an S3 server")
	testReparse(t, newS3Stack(t))
}

func testReparse(t *testing.T, s *stack) {
	ctx := testkit.Context(t, 5*time.Minute)
	lines := accessLines(12000)
	cl := testkit.KafkaClient(t, s.brokers, kgo.DefaultProduceTopic("logs"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	recs := make([]*kgo.Record, len(lines))
	for i, l := range lines {
		recs[i] = &kgo.Record{Value: l.value, Partition: l.partition, Timestamp: l.at.Add(2 * time.Second)}
		if l.header {
			recs[i].Headers = []kgo.RecordHeader{{Key: ingest.FormatHeader, Value: []byte("combined")}}
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()

	rulesA := ingest.Spec{Format: "combined", HotTerm: "param:q", UVField: "user"}.MustParse()
	rulesB := ingest.Spec{Format: "json", HotTerm: "param:tag", UVField: "ip"}.MustParse()
	if _, err := s.batch(settings.Rules(rulesA)).Run(ctx); err != nil {
		t.Fatal(err)
	}
	// Generation 1: the combined lines alone, q and the user (else the
	// IP: event.Visitor).
	s.checkPanes(wantPanes(lines, func(l accessLine) bool { return l.header }, func(l accessLine) string { return l.q }, func(l accessLine) string {
		if l.user != "-" {
			return l.user
		}
		return l.ip
	}), 1)
	filesA := len(s.manifest().Files)

	// Generation 2, killed after the first hour's re-parse is saved and
	// the second's files are written.
	calls := 0
	crash := errors.New("killed in the re-parse")
	_, err := s.batch(settings.Rules(rulesB), settings.Generation(2), withAfterReparse(func() error {
		if calls++; calls == 2 {
			return crash
		}
		return nil
	})).Run(ctx)
	if !errors.Is(err, crash) {
		t.Fatalf("run killed in the re-parse: %v", err)
	}
	m := s.manifest()
	byRules := map[string]int{}
	for _, f := range m.Files {
		byRules[f.Rules]++
	}
	if byRules[rulesB.ID()] == 0 || byRules[rulesA.ID()] == 0 || len(byRules) != 2 {
		t.Errorf("after the kill: files by rules %v, want some of each of %q and %q", byRules, rulesA.ID(), rulesB.ID())
	}
	if rows, distinct := s.manifestRows(ctx); rows != int64(len(lines)) || distinct != rows {
		t.Errorf("after the kill the manifest's files hold %d rows (%d distinct offsets), want %d", rows, distinct, len(lines))
	}

	sum, err := s.batch(settings.Rules(rulesB), settings.Generation(2)).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files under rules A; the run after the kill re-parsed %+v, recomputed %d hours, removed %d orphans",
		filesA, sum.Recompute.Reparse, len(sum.Recompute.Hours), sum.Compact.OrphansRemoved)
	if sum.Recompute.Reparse.Files == 0 || sum.Compact.OrphansRemoved == 0 {
		t.Errorf("the run after the kill: re-parsed %d files, removed %d orphans; want both", sum.Recompute.Reparse.Files, sum.Compact.OrphansRemoved)
	}
	m = s.manifest()
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
		if f.Rules != rulesB.ID() {
			t.Errorf("file %s: rules %q, want %q", f.Path, f.Rules, rulesB.ID())
		}
	}
	slices.Sort(paths)
	if onDisk := s.lakeFiles(); !slices.Equal(onDisk, paths) {
		t.Errorf("files in the lake %v, the manifest names %v", onDisk, paths)
	}
	var rows, distinct, errs int64
	s.duck(ctx, `SELECT count(*), count(DISTINCT ("partition", "offset")), count(*) FILTER (WHERE parse_error <> '') FROM LAKE`, &rows, &distinct, &errs)
	var malformed int64
	for _, l := range lines {
		if l.malformed {
			malformed++
		}
	}
	if rows != int64(len(lines)) || distinct != rows || errs != malformed {
		t.Errorf("lake: %d rows, %d distinct offsets, %d parse errors; want %d rows, %d parse errors", rows, distinct, errs, len(lines), malformed)
	}
	// Generation 2: every line, the tag and the client IP, in every pane.
	s.checkPanes(wantPanes(lines, func(accessLine) bool { return true }, func(l accessLine) string { return l.tag }, func(l accessLine) string { return l.ip }), 2)
	if h := s.horizon(ctx); collections.CurrentGeneration(h.Generation) != 2 || !h.Horizon.Equal(base.Add(3*time.Hour)) {
		t.Errorf("horizon %s generation %d, want %s generation 2", h.Horizon, h.Generation, base.Add(3*time.Hour))
	}
	// Nothing left to re-parse: a run again changes nothing.
	sum, err = s.batch(settings.Rules(rulesB), settings.Generation(2)).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Recompute.Reparse.Files != 0 || len(sum.Recompute.Hours) != 0 {
		t.Errorf("a run again re-parsed %d files, recomputed %d hours", sum.Recompute.Reparse.Files, len(sum.Recompute.Hours))
	}
}
