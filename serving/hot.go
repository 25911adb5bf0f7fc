package serving

import (
	"time"

	"github.com/loglambda/loglambda/schemas/views"
)

// HotQuery asks for the top K search terms of a range. The zero value asks
// for the top 10 terms of the last hour.
type HotQuery struct {
	Range
	// K is the number of terms, 1 up to the server's limit (1000); 0
	// means 10.
	K int
}

// HotAnswer is the answer to a HotQuery, the same over HTTP and gRPC.
type HotAnswer struct {
	// From and To are the range answered: the asked one widened to whole
	// panes.
	From, To time.Time
	Terms    []views.TermCount
	// ErrorBound bounds the count of any term not listed and the overcount
	// of any listed term (each also carries its own Err); 0 when exact.
	ErrorBound int64
	// BatchHorizon is where batch ended and speed began; zero when batch
	// has never run.
	BatchHorizon time.Time
	// Exact is set when every pane came from batch and no count is
	// estimated.
	Exact bool
}

// Hot merges the hot summaries of the range and returns its top terms. A
// bad parameter is an error whose message names it and its value.
func (s *Server) Hot(q HotQuery) (*HotAnswer, error) {
	a, _, err := s.hot(q)
	return a, err
}

// hot is Hot with the cache entry holding the answer.
func (s *Server) hot(q HotQuery) (*HotAnswer, *answerEntry, error) {
	sp, err := s.span(q.Range)
	if err != nil {
		return nil, nil, err
	}
	k, err := s.checkK(q.K)
	if err != nil {
		return nil, nil, err
	}
	key := answerKey{view: "hot", from: sp.from, to: sp.to, k: k}
	return cachedAnswer(s, key, sp.from, sp.to, func(sn *snapshot) (*HotAnswer, error) {
		return hotOf(sn, sp, s.paneSeconds(), k), nil
	})
}

// hotOf computes the answer over sn.
func hotOf(sn *snapshot, sp span, pane int64, k int) *HotAnswer {
	states := sn.statesIn(nil, sp.from, sp.to, pane)
	hots := make([]*views.Hot, len(states))
	for i, st := range states {
		hots[i] = st.of(views.ViewHot).Hot
	}
	acc := views.MergeHot(hots...)
	return &HotAnswer{
		From:         sp.fromTime(),
		To:           sp.toTime(),
		Terms:        acc.Top(k),
		ErrorBound:   acc.Floor(),
		BatchHorizon: sn.horizon,
		Exact:        sn.exact(sp) && acc.Exact(),
	}
}
