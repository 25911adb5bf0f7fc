package cli

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestSpeedFlagErrors checks that bad flags fail before anything connects,
// with the flag and value named.
func TestSpeedFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pane", "7m"}, "--pane 7m0s"},
		{[]string{"--lateness", "-1s"}, "--lateness -1s"},
		{[]string{"--flush-interval", "0s"}, "--flush-interval 0s"},
		{[]string{"--hot-capacity", "-3"}, "--hot-capacity -3"},
		{[]string{"--hot-term", "column:q"}, "--hot-term"},
		{[]string{"--format", "xml"}, "--format"},
		{[]string{"--uv-field", " , "}, "--uv-field"},
		{[]string{"--map", "ts=@timestamp", "--format", "combined"}, "--map \"ts=@timestamp\" needs --format json"},
		{[]string{"--map", "when=@timestamp"}, "unknown field \"when\""},
		{[]string{"--brokers", " , "}, "--brokers is empty"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			err := runSpeed(context.Background(), tc.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("runSpeed(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}
