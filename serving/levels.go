package serving

import (
	"time"

	"github.com/loglambda/loglambda/schemas/views"
)

// LevelsQuery asks for the (instance, level) counts of a range as a series
// of Step-wide buckets and as a total, optionally for one instance only.
type LevelsQuery struct {
	Range
	// Step is the bucket width: a positive multiple of the pane; 0 means
	// the pane.
	Step time.Duration
	// Instance keeps only this instance (as counted: the instance, else
	// the host, else "-"); empty keeps all.
	Instance string
}

// LevelsPoint is one bucket of the series, starting at T: events per
// level, summed over the instances asked for.
type LevelsPoint struct {
	T      time.Time
	Levels map[string]int64
}

// LevelsAnswer is the answer to a LevelsQuery.
type LevelsAnswer struct {
	// Frame.Exact: the counts are exact on both sides of the horizon
	// (unless a pane had more than views.LevelsCap keys: see views.Levels).
	Frame
	Instance string
	// Series has one point per step-aligned bucket overlapping the range,
	// empty buckets included (with an empty map), so a chart has no gaps.
	Series []LevelsPoint
	// Total is instance -> level -> count over the whole range.
	Total map[string]map[string]int64
}

// maxInstanceLen bounds the instance parameter: instance names are short,
// and a longer one is a mistake worth naming.
const maxInstanceLen = 256

// Levels answers the series and total of the range, with the same lambda
// merge, range and step rules as Traffic.
func (s *Server) Levels(q LevelsQuery) (*LevelsAnswer, error) {
	a, _, err := s.levels(q)
	return a, err
}

// levels is Levels with the cache entry holding the answer.
func (s *Server) levels(q LevelsQuery) (*LevelsAnswer, *answerEntry, error) {
	if len(q.Instance) > maxInstanceLen {
		return nil, nil, badParam("instance", q.Instance, "longer than %d bytes", maxInstanceLen)
	}
	ser, err := s.series(q.Range, q.Step)
	if err != nil {
		return nil, nil, err
	}
	key := ser.key("levels")
	key.instance = q.Instance
	return cachedAnswer(s, key, ser.sp.from, ser.sp.to, func(sn *snapshot) (*LevelsAnswer, error) {
		return levelsOf(ser.on(sn), q), nil
	})
}

// levelsOf computes the answer over ser.
func levelsOf(ser series, q LevelsQuery) *LevelsAnswer {
	ans := &LevelsAnswer{Frame: ser.frame(), Instance: q.Instance, Total: map[string]map[string]int64{}}
	keep := func(k views.LevelKey) bool { return q.Instance == "" || k.Instance == q.Instance }
	for b, states := range ser.quarterStates {
		pt := LevelsPoint{T: time.Unix(b, 0).UTC(), Levels: map[string]int64{}}
		for _, st := range states {
			st.of(views.ViewLevels).Levels.EachUnsorted(func(k views.LevelKey, n int64) {
				if !keep(k) {
					return
				}
				pt.Levels[k.Level] += n
				per := ans.Total[k.Instance]
				if per == nil {
					per = map[string]int64{}
					ans.Total[k.Instance] = per
				}
				per[k.Level] += n
			})
		}
		ans.Series = append(ans.Series, pt)
	}
	return ans
}
