package gen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Application logs of the shop's services (checkout, auth, catalog on
// app-1..app-3), for the patterns view: a realistic template mix (a few
// templates make most lines, some words vary: user names, providers,
// reasons) and, from time to time, a new kind of error that was not seen
// before, logged for a while and then fixed. The new kinds follow event
// time alone (not the random stream), so every run with the same start
// shows the same ones at the same times.

const (
	serviceShare = 0.10 // share of service log lines
	nApp         = 3    // app-1..app-3

	// A new kind of error starts every novelEvery of event time (after the
	// first novelEvery), is logged during novelFor, and the next one is
	// another kind: with len(novelErrors) kinds, one recurs only after
	// hours, so a period compared with the one before shows it as new.
	novelEvery = 37 * time.Minute
	novelFor   = 12 * time.Minute
	novelShare = 0.08 // share of service lines during its window
)

// svcTemplate is one kind of service line: its level, component and how
// to write it.
type svcTemplate struct {
	level, component string
	weight           float64
	write            func(b []byte, r *rand.Rand) []byte
}

func pick(r *rand.Rand, words ...string) string { return words[r.IntN(len(words))] }

func userName(r *rand.Rand) string {
	k := r.IntN(500)
	return firstNames[k%len(firstNames)] + strconv.Itoa(k)
}

// serviceTemplates is the everyday mix, most frequent first.
var serviceTemplates = []svcTemplate{
	{"INFO", "auth", 20, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "user %s logged in from 192.168.%d.%d", userName(r), r.IntN(20), r.IntN(250))
	}},
	{"INFO", "checkout", 14, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "order %d placed by %s: %d items, total %d.%02d EUR", 100000+r.IntN(900000), userName(r), 1+r.IntN(9), r.IntN(400), r.IntN(100))
	}},
	{"INFO", "checkout", 10, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "payment authorized for order %d via %s", 100000+r.IntN(900000), pick(r, "stripe", "adyen", "paypal", "klarna"))
	}},
	{"INFO", "catalog", 9, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "cache hit ratio %d%% over the last %ds", 60+r.IntN(40), 30+r.IntN(60))
	}},
	{"INFO", "auth", 7, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "session %016x expired after %ds idle", r.Uint64(), 600+r.IntN(3000))
	}},
	{"INFO", "checkout", 6, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "sent email %s to %s", pick(r, "order-confirmation", "shipping-update", "password-reset"), userName(r))
	}},
	{"INFO", "catalog", 5, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "reindexed %d products in %dms", 100+r.IntN(5000), 50+r.IntN(2000))
	}},
	{"WARN", "checkout", 4, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "retrying call to %s (attempt %d of 5)", pick(r, "inventory", "pricing", "shipping"), 2+r.IntN(4))
	}},
	{"WARN", "auth", 3, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "rate limit near for client %s: %d of 1000 requests", userName(r), 800+r.IntN(200))
	}},
	{"WARN", "auth", 2, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "failed login for user %s: wrong password", userName(r))
	}},
	{"ERROR", "checkout", 1.5, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "payment declined for order %d: %s", 100000+r.IntN(900000), pick(r, "insufficient funds", "card expired", "suspected fraud"))
	}},
	{"ERROR", "catalog", 1, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "timeout calling %s after %dms", pick(r, "inventory", "pricing", "recommendations"), 1000+r.IntN(4000))
	}},
}

// novelErrors are the new kinds of error, one after the other.
var novelErrors = []svcTemplate{
	{"ERROR", "checkout", 0, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "TLS handshake with payments.example.net failed: certificate has expired (serial %x)", r.Uint32())
	}},
	{"ERROR", "catalog", 0, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "OutOfMemoryError in worker %d: Java heap space", r.IntN(16))
	}},
	{"ERROR", "checkout", 0, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "schema validation failed for event order.updated: missing field %s", pick(r, "currency", "shipping_address", "tax_rate"))
	}},
	{"ERROR", "catalog", 0, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "disk quota exceeded on /var/lib/catalog/images (%d%% used)", 95+r.IntN(5))
	}},
	{"ERROR", "checkout", 0, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "circuit breaker OPEN for shipping after %d consecutive failures", 5+r.IntN(20))
	}},
	{"ERROR", "checkout", 0, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "failed to acquire lock orders:%d after %dms", 100000+r.IntN(900000), 5000+r.IntN(5000))
	}},
	{"ERROR", "catalog", 0, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "kafka producer error: message too large (%d bytes)", 1048577+r.IntN(1<<20))
	}},
	{"ERROR", "checkout", 0, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "nil pointer dereference in CartService.ApplyCoupon (coupon %s)", pick(r, "SPRING10", "WELCOME5", "VIP20", "FREESHIP"))
	}},
	{"ERROR", "auth", 0, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "redis READONLY: You can't write against a read only replica (key session:%016x)", r.Uint64())
	}},
	{"ERROR", "auth", 0, func(b []byte, r *rand.Rand) []byte {
		return fmt.Appendf(b, "invalid JWT signature for user %s (kid %d)", userName(r), r.IntN(8))
	}},
}

// serviceWeight is the sum of the everyday templates' weights.
var serviceWeight = func() float64 {
	w := 0.0
	for _, t := range serviceTemplates {
		w += t.weight
	}
	return w
}()

// NovelError returns the new kind of error logged at event time t, for a
// stream started at start: its index in the pool and whether one is
// logged at all. Tests and the demo's documentation use it.
func NovelError(start, t time.Time) (int, bool) {
	d := t.Sub(start)
	if d < novelEvery {
		return 0, false
	}
	n := int(d / novelEvery)
	if d-time.Duration(n)*novelEvery >= novelFor {
		return 0, false
	}
	return (n - 1) % len(novelErrors), true
}

// appendService writes a service log line at event time t; the key is
// the instance.
func (g *Generator) appendService(b []byte, t time.Time) ([]byte, int, int) {
	r := g.r
	tmpl := &serviceTemplates[len(serviceTemplates)-1]
	if k, ok := NovelError(g.cfg.start, t); ok && r.Float64() < novelShare {
		tmpl = &novelErrors[k]
	} else {
		x := r.Float64() * serviceWeight
		for i := range serviceTemplates {
			if x < serviceTemplates[i].weight {
				tmpl = &serviceTemplates[i]
				break
			}
			x -= serviceTemplates[i].weight
		}
	}
	inst := 1 + r.IntN(nApp)
	b = append(b, `,"host":"app-`...)
	b = strconv.AppendInt(b, int64(inst), 10)
	b = append(b, `","instance":"`...)
	k0 := len(b)
	b = append(b, "app-"...)
	b = strconv.AppendInt(b, int64(inst), 10)
	k1 := len(b)
	b = append(b, `","level":"`...)
	b = append(b, tmpl.level...)
	b = append(b, `","component":"`...)
	b = append(b, tmpl.component...)
	b = append(b, `","msg":"`...)
	b = tmpl.write(b, r) // no quotes or backslashes in the templates
	b = append(b, '"')
	return b, k0, k1
}
