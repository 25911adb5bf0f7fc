package gen

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// template is a message with %d placeholders, split once so that filling it
// costs appends instead of a fmt.Sprintf per line.
type template struct {
	parts []string // len(parts) = placeholders + 1
}

func newTemplates(msgs []string) []template {
	out := make([]template, len(msgs))
	for i, m := range msgs {
		out[i] = template{parts: strings.Split(m, "%d")}
	}
	return out
}

// appendFill appends the message with every placeholder replaced by a random
// number below 10000.
func (t template) appendFill(b []byte, r *rand.Rand) []byte {
	b = append(b, t.parts[0]...)
	for _, p := range t.parts[1:] {
		b = strconv.AppendInt(b, int64(r.IntN(10000)), 10)
		b = append(b, p...)
	}
	return b
}
