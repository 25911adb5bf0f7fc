package patterns

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// This file scores the miner as the held-out check does: on the
// messages alone (the Content column of the structured ground truth),
// mined as the whole line (--format line) and with the header found by
// StripHeader (auto, which must find no header there), and on small
// samples (128 lines), where a rule that needs many lines to settle shows
// its cost.

// contentColumn returns the Content column of a dataset's structured CSV.
func (ds dataset) contentColumn(t testing.TB) [][]byte {
	dir := loghubDir(t)
	var path string
	for _, p := range []string{dir + "/" + ds.name + "_2k.log_structured.csv", dir + "/more/" + ds.name + "_2k.log_structured.csv"} {
		if _, err := os.Stat(p); err == nil {
			path = p
		}
	}
	cols, err := readColumns(path, "Content")
	if err != nil {
		t.Fatalf("%s: %v", ds.name, err)
	}
	out := make([][]byte, len(cols[0]))
	for i, c := range cols[0] {
		out[i] = []byte(c)
	}
	return out
}

// sampleScore mines k random samples of n consecutive lines of msgs (as
// the held-out sets are cut) and returns the mean GA and PA.
func sampleScore(ds dataset, msgs [][]byte, n, k int, opt Options) (ga, pa float64) {
	if len(msgs) <= n {
		g, p, _, _ := scoreWith(ds, msgs, opt)
		return g, p
	}
	r := rand.New(rand.NewPCG(uint64(len(ds.name)), 7))
	for range k {
		s := r.IntN(len(msgs) - n)
		sub := dataset{name: ds.name, truth: ds.truth[s : s+n], templates: ds.templates[s : s+n]}
		g, p, _, _ := scoreWith(sub, msgs[s:s+n], opt)
		ga += g
		pa += p
	}
	return ga / float64(k), pa / float64(k)
}

// scoreWith is score with options.
func scoreWith(ds dataset, msgs [][]byte, opt Options) (ga, pa float64, pred []Pattern, m *Miner) {
	m = NewMiner(opt)
	for _, msg := range msgs {
		m.Add(msg)
	}
	pred = make([]Pattern, len(msgs))
	for i, msg := range msgs {
		pred[i], _ = m.Match(msg)
	}
	return groupingAccuracy(ids(pred), ds.truth), parsingAccuracy(pred, ds.templates), pred, m
}

// TestMessagesLoghub scores every sample's messages (the Content column)
// mined whole (line), with StripHeader first (auto: it must find no header
// in a message, within 0.03 PA of line), and on 128-line samples; and the
// whole lines with StripHeader against the header format given (within
// 0.03 PA).
func TestMessagesLoghub(t *testing.T) {
	type row struct {
		name                           string
		ga, pa, autoGA, autoPA         float64
		smallGA, smallPA, whole, given float64
	}
	var rows []row
	for _, ds := range loadLoghub(t) {
		msgs := ds.contentColumn(t)
		ga, pa, pred, _ := scoreWith(ds, msgs, Options{})
		aga, apa, apred, _ := scoreWith(ds, autoContents(msgs), Options{})
		sga, spa := sampleScore(ds, msgs, 128, 8, Options{})
		_, whole, _, _ := scoreWith(ds, autoContents(ds.lines), Options{})
		_, given, _, _ := scoreWith(ds, ds.contents(t), Options{})
		rows = append(rows, row{ds.name, ga, pa, aga, apa, sga, spa, whole, given})
		if os.Getenv("LOGLAMBDA_PA_DEBUG") == "content" {
			debugTemplates(t, ds, pred)
		}
		if os.Getenv("LOGLAMBDA_PA_DEBUG") == "contentauto" {
			debugTemplates(t, ds, apred)
		}
		if apa < pa-0.03 {
			t.Errorf("%s: auto on messages only: PA %.4f, line %.4f: more than 0.03 apart (StripHeader took message text for a header)", ds.name, apa, pa)
		}
		if whole < given-0.03 {
			t.Errorf("%s: auto on whole lines: PA %.4f, header given %.4f: more than 0.03 apart", ds.name, whole, given)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| sample | GA line | PA line | GA auto | PA auto | GA 128 | PA 128 | PA auto whole | PA header given |\n|---|---|---|---|---|---|---|---|---|\n")
	var sum row
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", r.name, r.ga, r.pa, r.autoGA, r.autoPA, r.smallGA, r.smallPA, r.whole, r.given)
		sum.ga += r.ga
		sum.pa += r.pa
		sum.autoGA += r.autoGA
		sum.autoPA += r.autoPA
		sum.smallGA += r.smallGA
		sum.smallPA += r.smallPA
		sum.whole += r.whole
		sum.given += r.given
	}
	n := float64(len(rows))
	fmt.Fprintf(&b, "| mean | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |", sum.ga/n, sum.pa/n, sum.autoGA/n, sum.autoPA/n, sum.smallGA/n, sum.smallPA/n, sum.whole/n, sum.given/n)
	slices.SortFunc(rows, func(a, b row) int {
		if a.smallPA < b.smallPA {
			return -1
		}
		return 1
	})
	t.Log("messages only" + b.String())
}

// TestStripHeaderMessages reports, per Loghub sample, the share of
// messages (the Content column: lines with no header) that StripHeader
// leaves whole, as it must. LOGLAMBDA_HEADER_DEBUG=1 logs what it cut.
func TestStripHeaderMessages(t *testing.T) {
	for _, ds := range loadLoghub(t) {
		same, shown := 0, 0
		for _, m := range ds.contentColumn(t) {
			got := StripHeader(m)
			if strings.TrimSpace(string(got)) == strings.TrimSpace(string(m)) {
				same++
			} else if os.Getenv("LOGLAMBDA_HEADER_DEBUG") != "" && shown < 5 {
				shown++
				t.Logf("%s: cut %q of %q", ds.name, m[:len(m)-len(got)], m)
			}
		}
		t.Logf("message %-11s %.4f of messages left whole", ds.name, float64(same)/float64(len(ds.lines)))
	}
}

// TestRulesLoghub is the leave-one-system-out score. For each rule (see
// rule) and each system it measures the gain of the rule there: PA + GA
// on the system's messages (line) with every rule, minus the same with
// that rule off. The systems where a rule gains are the ones that motivate
// it. A system's held-out score is its score with the rules no other
// system motivates turned off: the miner as it would be had that system's
// file never been in view. It prints per system the dev score (every
// rule), the held-out score and the gap, the worst systems, and per rule
// the systems that motivate it and those it costs; a rule motivated by one
// system only is marked suspect.
func TestRulesLoghub(t *testing.T) {
	const eps = 0.002 // four lines in 2,000
	type sys struct {
		ds   dataset
		msgs [][]byte
		dev  [2]float64 // GA, PA
	}
	var systems []sys
	for _, ds := range loadLoghub(t) {
		msgs := ds.contentColumn(t)
		ga, pa, _, _ := scoreWith(ds, msgs, Options{})
		systems = append(systems, sys{ds, msgs, [2]float64{ga, pa}})
	}
	nr := len(ruleNames)
	gain := make([][]float64, nr)
	for r := range nr {
		gain[r] = make([]float64, len(systems))
		for k, s := range systems {
			ga, pa, _, _ := scoreWith(s.ds, s.msgs, Options{off: rule(1) << r})
			gain[r][k] = s.dev[0] + s.dev[1] - ga - pa
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| rule | motivated by (gain in GA+PA) | costs | |\n|---|---|---|---|\n")
	for r := range nr {
		var helps, hurts []string
		for k, s := range systems {
			switch g := gain[r][k]; {
			case g > eps:
				helps = append(helps, fmt.Sprintf("%s %+.3f", s.ds.name, g))
			case g < -eps:
				hurts = append(hurts, fmt.Sprintf("%s %+.3f", s.ds.name, g))
			}
		}
		note := ""
		if len(helps) <= 1 {
			note = "suspect"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", ruleNames[r], strings.Join(helps, ", "), strings.Join(hurts, ", "), note)
	}
	t.Log("rules" + b.String())

	b.Reset()
	fmt.Fprintf(&b, "\n| system | dev GA | dev PA | held-out GA | held-out PA | gap GA | gap PA | rules off |\n|---|---|---|---|---|---|---|---|\n")
	type res struct {
		name           string
		dev, held, gap [2]float64
	}
	var rs []res
	var sum res
	for k, s := range systems {
		var off rule
		var names []string
		for r := range nr {
			others := 0.0
			for k2 := range systems {
				if k2 != k {
					others += max(gain[r][k2], 0)
				}
			}
			if others <= eps && gain[r][k] > eps {
				off |= rule(1) << r
				names = append(names, ruleNames[r])
			}
		}
		ga, pa := s.dev[0], s.dev[1]
		if off != 0 {
			ga, pa, _, _ = scoreWith(s.ds, s.msgs, Options{off: off})
		}
		x := res{name: s.ds.name, dev: s.dev, held: [2]float64{ga, pa}, gap: [2]float64{s.dev[0] - ga, s.dev[1] - pa}}
		rs = append(rs, x)
		for i := range 2 {
			sum.dev[i] += x.dev[i]
			sum.held[i] += x.held[i]
			sum.gap[i] += x.gap[i]
		}
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %s |\n", x.name, x.dev[0], x.dev[1], ga, pa, x.gap[0], x.gap[1], strings.Join(names, ", "))
	}
	n := float64(len(systems))
	fmt.Fprintf(&b, "| mean | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | |", sum.dev[0]/n, sum.dev[1]/n, sum.held[0]/n, sum.held[1]/n, sum.gap[0]/n, sum.gap[1]/n)
	slices.SortFunc(rs, func(a, b res) int {
		if a.held[1] < b.held[1] {
			return -1
		}
		return 1
	})
	var worst []string
	for _, x := range rs[:min(4, len(rs))] {
		worst = append(worst, fmt.Sprintf("%s PA %.3f", x.name, x.held[1]))
	}
	t.Log("leave one system out (messages only, --format line)" + b.String() + "\nworst held-out: " + strings.Join(worst, ", "))
}
