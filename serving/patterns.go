package serving

import (
	"cmp"
	"slices"
	"time"

	"github.com/loglambda/loglambda/schemas/patterns"
	"github.com/loglambda/loglambda/schemas/views"
)

// PatternsQuery asks for the top K log patterns of a range, with a count
// per Step and the comparison with the previous period of equal length,
// optionally for one level and one instance.
type PatternsQuery struct {
	Range
	// K is the number of patterns, as HotQuery.K (0 means 10).
	K int
	// Step is the series bucket width: a positive multiple of the pane;
	// 0 means the pane.
	Step time.Duration
	// Level and Instance keep only the events of that level and instance
	// (as the levels view counts them: "-" for none); empty keeps all.
	Level, Instance string
}

// PatternCount is one pattern of a PatternsAnswer.
type PatternCount struct {
	ID       patterns.ID
	Template string
	// Count is the number of events in the range (after the filters);
	// Share is Count over all the range's events (after the filters).
	Count int64
	Share float64
	// Previous is the count in the previous period of equal length;
	// ChangePct is (Count-Previous)/Previous in percent, nil when
	// Previous is 0.
	Previous  int64
	ChangePct *float64
	// New: no event in the previous period. Gone: events in the previous
	// period and none in the range (only in PatternsAnswer.Gone).
	New, Gone bool
	// FirstSeen and LastSeen are the event times of the pattern's first
	// and last events in the range of the level and instance asked (for
	// a gone pattern: in the previous period).
	FirstSeen, LastSeen time.Time
	// Example is one line of the pattern (its mined message, cut to
	// views.PatternExampleMax bytes) and where the whole raw line is: the
	// Kafka partition and offset, the lake's columns of the same names.
	Example          string
	ExamplePartition int32
	ExampleOffset    int64
	// Series is the count per step bucket, aligned with PatternsAnswer.Steps.
	Series []int64
}

// PatternsAnswer is the answer to a PatternsQuery.
type PatternsAnswer struct {
	// Frame.Exact: the range and the previous period lie wholly before the
	// horizon.
	Frame
	Level, Instance string
	// Steps are the starts of the series buckets.
	Steps []time.Time
	// Total is the number of events in the range (after the filters): the
	// sum of every pattern's count, the folded "(other)" entry included.
	Total int64
	// PreviousTotal is the same over the previous period.
	PreviousTotal int64
	// Patterns are the top K by count (ties by id); Gone the top K of the
	// previous period's patterns that have no event in the range.
	Patterns []PatternCount
	Gone     []PatternCount
}

// maxLevelLen bounds the level parameter.
const maxLevelLen = 64

// Patterns merges the patterns states of the range and of the previous
// period of equal length; absorptions recorded in either apply to both (see
// views.Patterns).
func (s *Server) Patterns(q PatternsQuery) (*PatternsAnswer, error) {
	a, _, err := s.patterns(q)
	return a, err
}

// patterns is Patterns with the cache entry holding the answer.
func (s *Server) patterns(q PatternsQuery) (*PatternsAnswer, *answerEntry, error) {
	if len(q.Instance) > maxInstanceLen {
		return nil, nil, badParam("instance", q.Instance, "longer than %d bytes", maxInstanceLen)
	}
	if len(q.Level) > maxLevelLen {
		return nil, nil, badParam("level", q.Level, "longer than %d bytes", maxLevelLen)
	}
	k, err := s.checkK(q.K)
	if err != nil {
		return nil, nil, err
	}
	ser, err := s.series(q.Range, q.Step)
	if err != nil {
		return nil, nil, err
	}
	key := ser.key("patterns")
	key.k, key.level, key.instance = k, q.Level, q.Instance
	// The answer also reads the previous period of equal length.
	lo := ser.sp.from - (ser.sp.to - ser.sp.from)
	return cachedAnswer(s, key, lo, ser.sp.to, func(sn *snapshot) (*PatternsAnswer, error) {
		return patternsOf(ser.on(sn), q, k), nil
	})
}

// patternsOf computes the answer over ser, with k patterns.
func patternsOf(ser series, q PatternsQuery, k int) *PatternsAnswer {
	sn, sp, pane := ser.sn, ser.sp, ser.pane
	prevSpan := span{from: sp.from - (sp.to - sp.from), to: sp.from}
	cur := mergePatterns(sn.quarterStatesIn(nil, sp.from, sp.to, pane))
	prev := mergePatterns(sn.quarterStatesIn(nil, prevSpan.from, prevSpan.to, pane))
	for _, a := range prev.Absorptions() {
		cur.Absorb(a)
	}
	for _, a := range cur.Absorptions() {
		prev.Absorb(a)
	}
	count := func(e *views.PatternStat) int64 {
		n, _, _ := e.Filtered(q.Level, q.Instance)
		return n
	}
	ans := &PatternsAnswer{Frame: ser.frame(), Level: q.Level, Instance: q.Instance,
		Patterns: []PatternCount{}, Gone: []PatternCount{}}
	ans.Exact = ans.Exact && sn.exact(prevSpan)
	prevCounts := map[patterns.ID]int64{}
	prevStats := map[patterns.ID]*views.PatternStat{}
	prev.Each(func(e *views.PatternStat) {
		if n := count(e); n > 0 {
			prevCounts[e.ID] = n
			prevStats[e.ID] = e
			ans.PreviousTotal += n
		}
	})
	var top []PatternCount
	seen := map[patterns.ID]bool{}
	cur.Each(func(e *views.PatternStat) {
		n := count(e)
		if n == 0 {
			return
		}
		seen[e.ID] = true
		ans.Total += n
		top = append(top, patternCount(e, q, prevCounts[e.ID]))
	})
	byCount := func(a, b PatternCount) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return cmp.Compare(a.ID, b.ID)
	}
	slices.SortFunc(top, byCount)
	top = top[:min(k, len(top))]
	for i := range top {
		if ans.Total > 0 {
			top[i].Share = float64(top[i].Count) / float64(ans.Total)
		}
	}
	var gone []PatternCount
	for id, n := range prevCounts {
		if !seen[id] && id != views.PatternsOther {
			g := patternCount(prevStats[id], q, n)
			g.Gone, g.New = true, false
			g.Count, g.Previous = n, n // ordered by the previous count
			gone = append(gone, g)
		}
	}
	slices.SortFunc(gone, byCount)
	gone = gone[:min(k, len(gone))]
	for i := range gone {
		gone[i].Count = 0
	}

	// The series: every state's entries, resolved through the range's
	// absorptions, summed per bucket for the patterns answered.
	index := make(map[patterns.ID]int, len(top))
	for i := range top {
		index[top[i].ID] = i
		top[i].Series = []int64{}
	}
	for b, states := range ser.quarterStates {
		ans.Steps = append(ans.Steps, time.Unix(b, 0).UTC())
		for i := range top {
			top[i].Series = append(top[i].Series, 0)
		}
		bi := len(ans.Steps) - 1
		for _, st := range states {
			if st.of(views.ViewPatterns).Patterns == nil {
				continue
			}
			st.of(views.ViewPatterns).Patterns.Each(func(e *views.PatternStat) {
				if i, ok := index[cur.Resolve(e.ID)]; ok {
					top[i].Series[bi] += count(e)
				}
			})
		}
	}
	ans.Patterns, ans.Gone = top, gone
	return ans
}

// mergePatterns merges the patterns states of states into a new one.
func mergePatterns(states []*state) *views.Patterns {
	acc := views.NewPatterns()
	for _, st := range states {
		acc.Merge(st.of(views.ViewPatterns).Patterns)
	}
	return acc
}

// patternCount fills the figures of one pattern, whose entry e holds its
// events in the range (or, for a gone one, in the previous period) and
// prev its count in the previous period; count, first and last seen are
// those of q's level and instance.
func patternCount(e *views.PatternStat, q PatternsQuery, prev int64) PatternCount {
	n, first, last := e.Filtered(q.Level, q.Instance)
	pc := PatternCount{
		ID: e.ID, Template: e.Template, Count: n, Previous: prev, New: prev == 0,
		FirstSeen: time.Unix(0, first).UTC(), LastSeen: time.Unix(0, last).UTC(),
		Example: e.Example, ExamplePartition: e.ExPartition, ExampleOffset: e.ExOffset,
	}
	if prev > 0 {
		c := float64(n-prev) / float64(prev) * 100
		pc.ChangePct = &c
	}
	return pc
}
