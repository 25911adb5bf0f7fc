package cli

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" driver, to count each file's rows
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/batch"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/lakefiles"
)

// TestLakeFilesCommand lists a lake that the batch layer compacted from
// Kafka and checks every line against the disk: the same Parquet files,
// their sizes, their row counts as DuckDB reads them from the files, and
// per hour the lines the test produced.
func TestLakeFilesCommand(t *testing.T) {
	ctx := testkit.Context(t, 2*time.Minute)
	const topic, n, bad = "lakefiles", 30000, 7
	k := testkit.Kafka(t, topic, 3)
	cl := testkit.KafkaClient(t, k.Addrs(), kgo.DefaultProduceTopic(topic))
	h0 := time.Now().Add(-6 * time.Hour).UTC().Truncate(time.Hour)
	perHour := map[time.Time]int64{}
	for i := range n {
		ts := h0.Add(time.Duration(i) * 3 * time.Hour / n) // three hours
		perHour[ts.Truncate(time.Hour)]++
		line := fmt.Sprintf(`{"ts":%q,"url":"/s?q=t%d","ip":"10.0.0.%d","bytes":%d}`, ts.Format(time.RFC3339Nano), i%50, i%200, i)
		cl.Produce(ctx, &kgo.Record{Key: []byte{byte(i)}, Value: []byte(line)}, nil)
	}
	for range bad { // no time: they go to the hour of their ingest time
		cl.Produce(ctx, &kgo.Record{Value: []byte("not json")}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	b, err := batch.New(nil, k.Addrs(), root, settings.Topic(topic), batch.MergeBelow(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Compact(ctx); err != nil {
		t.Fatal(err)
	}

	onDisk := map[string]int64{} // path -> size
	err = filepath.WalkDir(filepath.Join(root, topic), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		onDisk[p] = st.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) < 9 { // three hours on three partitions at least
		t.Fatalf("the lake holds %d files, want at least 9", len(onDisk))
	}
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()

	var out bytes.Buffer
	if err := runLake(ctx, []string{"files", "--json", "--lake", root, "--topic", topic}, &out); err != nil {
		t.Fatal(err)
	}
	files := decodeLakeFiles(t, out.Bytes())
	if len(files) != len(onDisk) {
		t.Errorf("listed %d files, the disk holds %d", len(files), len(onDisk))
	}
	rowsPerHour := map[time.Time]int64{}
	var rows int64
	for _, f := range files {
		size, ok := onDisk[f.Path]
		if !ok {
			t.Errorf("%s: listed but not on disk", f.Path)
			continue
		}
		if f.Bytes != size {
			t.Errorf("%s: bytes %d, on disk %d", f.Path, f.Bytes, size)
		}
		var inFile, hour int64
		var dt string
		q := `SELECT count(*), any_value(dt)::VARCHAR, any_value(hour) FROM read_parquet(?, hive_partitioning = true)`
		if err := duck.QueryRowContext(ctx, q, f.Path).Scan(&inFile, &dt, &hour); err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if f.Rows != inFile || f.Dt != dt || int64(f.Hour) != hour {
			t.Errorf("%s: rows %d dt %s hour %d; the file holds %d rows of dt %s hour %d", f.Path, f.Rows, f.Dt, f.Hour, inFile, dt, hour)
		}
		if want := time.Date(f.Start.Year(), f.Start.Month(), f.Start.Day(), f.Hour, 0, 0, 0, time.UTC); !f.Start.Equal(want) || f.Start.Format("2006-01-02") != f.Dt {
			t.Errorf("%s: start %s does not match dt %s hour %d", f.Path, f.Start, f.Dt, f.Hour)
		}
		rowsPerHour[f.Start] += f.Rows
		rows += f.Rows
	}
	if rows != n+bad {
		t.Errorf("listed %d rows, produced %d lines", rows, n+bad)
	}
	for h, want := range perHour {
		if rowsPerHour[h] != want {
			t.Errorf("hour %s: %d rows listed, %d lines produced", h.Format(time.RFC3339), rowsPerHour[h], want)
		}
	}

	// --from/--to keep the hours that overlap the range: here the second.
	h1 := h0.Add(time.Hour)
	out.Reset()
	args := []string{"files", "--json", "--lake", root, "--topic", topic,
		"--from", h1.Add(10 * time.Minute).Format(time.RFC3339), "--to", h1.Add(50 * time.Minute).Format(time.RFC3339)}
	if err := runLake(ctx, args, &out); err != nil {
		t.Fatal(err)
	}
	var mid int64
	for _, f := range decodeLakeFiles(t, out.Bytes()) {
		if !f.Start.Equal(h1) {
			t.Errorf("--from/--to listed %s of hour %s", f.Path, f.Start)
		}
		mid += f.Rows
	}
	if mid != perHour[h1] {
		t.Errorf("--from/--to: %d rows, the hour got %d lines", mid, perHour[h1])
	}

	// The table: a header and a line per file.
	out.Reset()
	if err := runLake(ctx, []string{"files", "--lake", root, "--topic", topic}, &out); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != len(onDisk)+1 || !strings.Contains(lines[0], "rows") {
		t.Errorf("table: %d lines, want a header and %d files:\n%s", len(lines), len(onDisk), out.String())
	}

	// A manifest of another version is refused, naming both versions.
	mpath := filepath.Join(root, topic, lakefiles.ManifestName)
	orig, err := os.ReadFile(mpath)
	if err != nil {
		t.Fatal(err)
	}
	newer := bytes.Replace(orig, []byte(`"version": 1`), []byte(`"version": 2`), 1)
	if bytes.Equal(newer, orig) {
		t.Fatalf("the manifest has no version 1 field:\n%.200s", orig)
	}
	if err := os.WriteFile(mpath, newer, 0o644); err != nil {
		t.Fatal(err)
	}
	err = runLake(ctx, []string{"files", "--lake", root, "--topic", topic}, &out)
	if err == nil || !strings.Contains(err.Error(), "version 2, this loglambda reads version 1") {
		t.Errorf("manifest version 2: err %v", err)
	}
}

func decodeLakeFiles(t *testing.T, b []byte) []lakeFile {
	t.Helper()
	var fs []lakeFile
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var f lakeFile
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("decode %q: %v", b, err)
		}
		fs = append(fs, f)
	}
	return fs
}

// TestLakeFilesErrors: the command's refusals, each with what to do.
func TestLakeFilesErrors(t *testing.T) {
	root := t.TempDir()
	// Parquet files without a manifest are no lake: never a glob.
	dir := filepath.Join(root, "logs", "dt=2026-11-20", "hour=10")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p0-0-9.parquet"), []byte("PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "want a subcommand"},
		{"unknown subcommand", []string{"list"}, `unknown subcommand "list"`},
		{"no manifest", []string{"files", "--lake", root}, "batch compact --lake " + root},
		{"bad topic", []string{"files", "--lake", root, "--topic", "../x"}, "not a valid directory name"},
		{"bad time", []string{"files", "--lake", root, "--from", "yesterday"}, "RFC 3339"},
		{"empty range", []string{"files", "--lake", root, "--from", "2026-11-20T10:00:00Z", "--to", "2026-11-20T10:00:00Z"}, "is not before"},
		{"argument", []string{"files", "--lake", root, "extra"}, "takes no arguments"},
	} {
		var out bytes.Buffer
		err := runLake(t.Context(), tc.args, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one containing %q", tc.name, err, tc.want)
		}
		if tc.name == "no manifest" && !errors.Is(err, lakefiles.ErrNoManifest) {
			t.Errorf("no manifest: err %v is not ErrNoManifest", err)
		}
	}
	var out bytes.Buffer
	if err := runLake(t.Context(), []string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "lake files") {
		t.Errorf("--help: err %v, out %q", err, out.String())
	}
}
