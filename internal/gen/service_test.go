package gen

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/schemas/patterns"
)

// TestServiceNewKinds mines three hours of the service lines the way the
// patterns view does and checks what the panel must show: a handful of
// everyday patterns that hold most lines, and each new kind of error
// appearing in its window, as a pattern never seen before it.
func TestServiceNewKinds(t *testing.T) {
	g := mustNew(t, Seed(5), Start(t0), Rate(20), Count(3*3600*20), OutOfOrder(0), Late(0))
	m := patterns.NewMiner(patterns.Options{})
	firstSeen := map[patterns.ID]time.Time{}
	var service int
	for !g.Done() {
		r := g.Next()
		var l struct {
			Host, Level, Msg string
		}
		if err := json.Unmarshal(r.Line, &l); err != nil {
			t.Fatalf("line %s: %v", r.Line, err)
		}
		if !strings.HasPrefix(l.Host, "app-") {
			continue
		}
		service++
		if l.Msg == "" || l.Level == "" {
			t.Fatalf("service line without msg or level: %s", r.Line)
		}
		id := m.AddString(l.Msg)
		if _, ok := firstSeen[id]; !ok {
			firstSeen[id] = r.Time
		}
	}
	ps := m.Patterns()
	if share := float64(service) / float64(3*3600*20); share < 0.07 || share > 0.13 {
		t.Errorf("service lines are %.3f of all, want about %.2f", share, serviceShare)
	}
	// The everyday mix: at most a few dozen patterns, the top one neither
	// everything nor nothing.
	if len(ps) > 40 {
		t.Errorf("%d patterns for %d templates; the mix should stay readable: %v", len(ps), len(serviceTemplates)+len(novelErrors), ps)
	}
	if top := float64(ps[0].Count) / float64(service); top < 0.1 || top > 0.4 {
		t.Errorf("top pattern %q holds %.2f of the lines", ps[0].Template, top)
	}
	// Each window's new kind is a pattern first seen inside its window.
	windows := 0
	for d := novelEvery; d < 3*time.Hour; d += novelEvery {
		from, to := t0.Add(d), t0.Add(d+novelFor)
		k, ok := NovelError(t0, from)
		if !ok {
			t.Fatalf("no new kind at %s", from)
		}
		windows++
		found := false
		for _, p := range ps {
			fs := firstSeen[p.ID]
			if !fs.Before(from) && fs.Before(to) && p.Count >= 10 {
				found = true
				t.Logf("new kind %d at %s: %q (%d lines)", k, fs.Format("15:04"), p.Template, p.Count)
			}
		}
		if !found {
			t.Errorf("window %s-%s: no pattern first seen in it", from.Format("15:04"), to.Format("15:04"))
		}
	}
	if windows < 4 {
		t.Errorf("%d windows in three hours, want at least 4", windows)
	}
}
