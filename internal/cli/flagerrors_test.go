package cli

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestCommandFlagErrors checks that each command refuses bad flags before
// it reads or connects to anything, with an error naming the flag or the
// value.
func TestCommandFlagErrors(t *testing.T) {
	run := map[string]func(t *testing.T, args []string) error{
		"gen":      func(t *testing.T, args []string) error { return runGen(context.Background(), args, io.Discard) },
		"patterns": func(t *testing.T, args []string) error { return runPatterns(context.Background(), args, io.Discard) },
		"ship": func(t *testing.T, args []string) error {
			return runShip(context.Background(), args, nil, io.Discard, false)
		},
		"speed": func(t *testing.T, args []string) error { return runSpeed(context.Background(), args, io.Discard) },
		"up": func(t *testing.T, args []string) error {
			return runUp(t.Context(), append(args, "--data", t.TempDir()), io.Discard)
		},
	}
	for _, tc := range []struct {
		cmd  string
		args []string
		want string
	}{
		{"gen", []string{"--stdout", "--start", "yesterday"}, "--start"},
		{"gen", []string{"--stdout", "--rate", "0"}, "rate 0"},
		{"gen", []string{"--stdout", "--late", "2"}, "late share 2"},

		{"patterns", []string{"/nonexistent/app.log"}, "/nonexistent/app.log"},
		{"patterns", []string{"--format", "xml", "x.log"}, `--format "xml"`},
		{"patterns", []string{"--max-patterns", "0", "x.log"}, "--max-patterns 0"},

		{"ship", []string{"--format", "foo", "x.log"}, `unknown format "foo"`},
		{"ship", []string{"--format", "json"}, "no input files"},
		{"ship", []string{"--format", "combined", "--map", "msg=message", "x.log"}, "needs --format json"},
		{"ship", []string{"--map", "msg", "x.log"}, "want field=key"},
		{"ship", []string{"--multiline-start", "(", "x.log"}, "multiline"},
		{"ship", []string{"--max-line", "1", "x.log"}, "max line 1 is smaller than allowed 16"},

		{"speed", []string{"--pane", "7m"}, "--pane 7m0s"},
		{"speed", []string{"--lateness", "-1s"}, "--lateness -1s"},
		{"speed", []string{"--flush-interval", "0s"}, "--flush-interval 0s"},
		{"speed", []string{"--hot-capacity", "-3"}, "--hot-capacity -3"},
		{"speed", []string{"--hot-term", "column:q"}, "--hot-term"},
		{"speed", []string{"--format", "xml"}, "--format"},
		{"speed", []string{"--uv-field", " , "}, "--uv-field"},
		{"speed", []string{"--map", "ts=@timestamp", "--format", "combined"}, "--map \"ts=@timestamp\" needs --format json"},
		{"speed", []string{"--map", "when=@timestamp"}, "unknown field \"when\""},
		{"speed", []string{"--brokers", " , "}, "--brokers is empty"},
		{"speed", []string{"--cluster-fields", "", "--micro-clusters", "0"}, `--cluster-fields "" --micro-clusters 0`},
		{"speed", []string{"--micro-clusters", "1"}, "--micro-clusters 1"},
		{"up", []string{"--cluster-fields", "", "--micro-clusters", "0"}, `--cluster-fields "" --micro-clusters 0`},

		{"up", []string{"--partitions", "0"}, "--partitions 0"},
		{"up", []string{"--kafka-retention", "0"}, "--kafka-retention"},
		{"up", []string{"--memory-limit-mib", "-1"}, "--memory-limit-mib -1"},
		{"speed", []string{"--memory-limit-mib", "-1"}, "--memory-limit-mib -1"},
		{"up", []string{"--kafka-retention-bytes", "-1"}, "--kafka-retention-bytes -1"},
		{"up", []string{"--batch-every", "10ms"}, "--batch-every 10ms"},
		{"up", []string{"--pane", "7m"}, "--pane 7m"},
		{"up", []string{"--hot-term", "nope"}, "--hot-term"},
		{"up", []string{"--uv-field", ","}, "--uv-field"},
		{"up", []string{"--http", "nowhere"}, "--http"},
		{"up", []string{"--grpc", "nowhere"}, "--grpc"},
	} {
		t.Run(tc.cmd+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			err := run[tc.cmd](t, tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s %q: %v, want an error containing %q", tc.cmd, tc.args, err, tc.want)
			}
		})
	}
}
