package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
)

func TestBatchCommand(t *testing.T) {
	ctx := testkit.Context(t, time.Minute)
	k := testkit.Kafka(t, "cmdlogs", 2)
	m := testkit.Mongo(t, embedded.MongoConfig{})
	cl := testkit.KafkaClient(t, k.Addrs(), kgo.DefaultProduceTopic("cmdlogs"))
	old := time.Now().Add(-5 * time.Hour).UTC().Truncate(time.Hour)
	for i := 0; i < 20; i++ {
		line := `{"ts":"` + old.Add(time.Duration(i)*15*time.Minute).Format(time.RFC3339) + `","url":"/s?q=x","ip":"1.2.3.4"}`
		if i == 7 {
			line = "not json"
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(line)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()

	t.Setenv("LOGLAMBDA_BROKERS", strings.Join(k.Addrs(), ","))
	t.Setenv("LOGLAMBDA_MONGO_URI", m.URI())
	lake := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		help    bool
		want    string // substring of stdout
	}{
		{"no subcommand", nil, true, false, ""},
		{"unknown subcommand", []string{"nightly"}, true, false, ""},
		{"help", []string{"--help"}, false, true, ""},
		{"subcommand help", []string{"run", "--help"}, false, true, ""},
		{"bad pane", []string{"run", "--topic", "cmdlogs", "--lake", lake, "--pane", "7m"}, true, false, ""},
		{"compact", []string{"compact", "--topic", "cmdlogs", "--lake", lake}, false, false, `"rows":20`},
		{"run", []string{"run", "--topic", "cmdlogs", "--lake", lake}, false, false, `"command":"batch run"`},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		err := runBatch(ctx, tc.args, &out, &errOut, nil)
		switch {
		case tc.help:
			if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut.String(), "usage: loglambda batch") {
				t.Errorf("%s: err %v, stderr %q; want usage and flag.ErrHelp", tc.name, err, errOut.String())
			}
			continue
		case tc.wantErr:
			if err == nil {
				t.Errorf("%s: want an error", tc.name)
			}
			continue
		case err != nil:
			t.Errorf("%s: %v (stderr %s)", tc.name, err, errOut.String())
			continue
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var v map[string]any
		if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &v) != nil || !strings.Contains(lines[0], tc.want) {
			t.Errorf("%s: stdout %q, want one JSON line containing %s", tc.name, out.String(), tc.want)
		}
	}
}
