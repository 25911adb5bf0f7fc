package embedded

import (
	"context"
	"log/slog"
	"slices"
)

// lazyHandler defers a handler's WithAttrs until a record is handled.
// FerretDB's SQL layer calls Logger.With(slog.Any("args", args)) twice per
// statement, for a debug line that is off, and a text or JSON handler
// formats the attributes when With is called: every replace of a pane
// document quoted the whole document twice (6 % of the embedded store's
// CPU while writing views, more for large documents). Deferred, an
// attribute is formatted only for a record that is logged.
type lazyHandler struct {
	h     slog.Handler
	attrs []slog.Attr
}

func lazy(h slog.Handler) slog.Handler { return &lazyHandler{h: h} }

func (l *lazyHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	return l.resolved().Handle(ctx, r)
}

func (l *lazyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return l
	}
	return &lazyHandler{h: l.h, attrs: append(slices.Clip(l.attrs), attrs...)}
}

// WithGroup applies the deferred attributes first: they belong outside
// the group.
func (l *lazyHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return l
	}
	return &lazyHandler{h: l.resolved().WithGroup(name)}
}

func (l *lazyHandler) resolved() slog.Handler {
	if len(l.attrs) == 0 {
		return l.h
	}
	return l.h.WithAttrs(l.attrs)
}
