package embedded

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// counted is a value that counts how often a handler formats it.
type counted struct{ n *int }

func (c counted) LogValue() slog.Value { *c.n++; return slog.StringValue("doc") }

// TestLazyHandler: a record that is logged reads as the plain handler
// writes it (attributes of With, then groups, then the record's); an
// attribute given to With is formatted only when a record is logged.
func TestLazyHandler(t *testing.T) {
	n := 0
	for _, tc := range []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"with", func(l *slog.Logger) { l.With("a", 1).Warn("m", "b", 2) }},
		{"with-group", func(l *slog.Logger) { l.With("a", 1).WithGroup("g").With("c", 3).Error("m", "b", 2) }},
		{"nested-with", func(l *slog.Logger) { l.With("a", 1).With("c", counted{&n}).Warn("m") }},
		{"off", func(l *slog.Logger) { l.With("args", counted{&n}).Debug("m") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var plain, lz bytes.Buffer
			opts := &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}
			tc.log(slog.New(slog.NewTextHandler(&plain, opts)))
			n = 0
			tc.log(slog.New(lazy(slog.NewTextHandler(&lz, opts))))
			if lz.String() != plain.String() {
				t.Errorf("lazy handler wrote %q, the text handler %q", lz.String(), plain.String())
			}
			if tc.name == "off" && n != 0 {
				t.Errorf("an attribute of a record not logged was formatted %d times", n)
			}
			if tc.name == "nested-with" && (n != 1 || !strings.Contains(lz.String(), "c=doc")) {
				t.Errorf("formatted %d times, wrote %q; want once, with c=doc", n, lz.String())
			}
		})
	}
}
