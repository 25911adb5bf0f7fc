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
// number below 10000, or below 256 where it is the last octet of an IPv4
// address (10.0.3.%d).
func (t template) appendFill(b []byte, r *rand.Rand) []byte {
	b = append(b, t.parts[0]...)
	for i, p := range t.parts[1:] {
		n := r.IntN(10000)
		if octet(t.parts[i]) {
			n %= 256
		}
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, p...)
	}
	return b
}

// octet reports whether a placeholder after text is an address's last
// octet: text ends with three dot-separated numbers and a dot.
func octet(text string) bool {
	dots := 0
	for i := len(text) - 1; i >= 0; i-- {
		switch c := text[i]; {
		case c == '.':
			dots++
			if dots == 4 || (i > 0 && text[i-1] == '.') {
				return false
			}
		case c >= '0' && c <= '9':
		default:
			return dots == 3 && i < len(text)-1 && text[i+1] != '.'
		}
	}
	return dots == 3 && len(text) > 0 && text[0] != '.'
}
