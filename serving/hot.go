package serving

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/loglambda/loglambda/schemas/views"
)

// hotAnswer is the body of GET /v1/hot.
type hotAnswer struct {
	// From and To are the range answered: the asked one widened to whole
	// panes.
	From  string            `json:"from"`
	To    string            `json:"to"`
	Terms []views.TermCount `json:"terms"`
	// ErrorBound bounds the count of any term not listed and the overcount
	// of any listed term (each also carries its own err); 0 when exact.
	ErrorBound   int64   `json:"error_bound"`
	BatchHorizon *string `json:"batch_horizon"`
	// Exact is set when every pane came from batch and no count is
	// estimated.
	Exact bool `json:"exact"`
}

func (s *Server) handleHot(w http.ResponseWriter, r *http.Request) {
	ans, err := s.hot(r.URL.Query())
	if err != nil {
		writeQueryError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// hot merges the hot summaries of the range and returns its top k terms.
func (s *Server) hot(q url.Values) (*hotAnswer, error) {
	sp, err := s.parseRange(q)
	if err != nil {
		return nil, err
	}
	k, err := s.parseK(q)
	if err != nil {
		return nil, err
	}
	sn := s.snap.Load()
	states := sn.statesIn(nil, sp.from, sp.to, s.paneSeconds())
	hots := make([]*views.Hot, len(states))
	for i, st := range states {
		hots[i] = st.pane.Hot
	}
	acc := views.MergeHot(hots...)
	return &hotAnswer{
		From:         fmtTime(sp.fromTime()),
		To:           fmtTime(sp.toTime()),
		Terms:        acc.Top(k),
		ErrorBound:   acc.Floor(),
		BatchHorizon: jsonTime(sn.horizon),
		Exact:        sn.exact(sp) && acc.Exact(),
	}, nil
}

// writeQueryError answers 400 for a bad parameter and 500 for anything
// else.
func writeQueryError(w http.ResponseWriter, err error) {
	var pe *paramError
	if errors.As(err, &pe) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}
