package serving

import (
	"cmp"
	"context"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/loglambda/loglambda/schemas/patterns"
	"github.com/loglambda/loglambda/schemas/views"
	"github.com/loglambda/loglambda/serving/alerts"
)

// Alerting: the rule engine (serving/alerts) reads the same query layer
// HTTP and gRPC answer from, through querySource, so a rule sees what the
// API sees. The engine runs in Run when a rule file is given (Rules);
// every server answers /v1/alerts and /v1/rules from MongoDB whichever
// process holds the evaluator lease.

// Rules is the YAML rule file evaluated every AlertEvery; empty, the
// default, evaluates nothing (and leaves the lease to processes that do).
// Every serving process of one deployment should be given the same file.
func Rules(path string) Opt { return func(c *cfg) { c.rulesFile = path } }

// AlertEvery is the rule evaluation interval (default 30s).
func AlertEvery(d time.Duration) Opt { return func(c *cfg) { c.alertEvery = d } }

// DashboardURL is the dashboard's address linked from notifications when
// the rule file names none (up and serve pass http://<--http>/).
func DashboardURL(u string) Opt { return func(c *cfg) { c.dashboardURL = u } }

// Alerting passes further options to the rule engine (tests: its clock,
// retries, lease holder).
func Alerting(opts ...alerts.Opt) Opt {
	return func(c *cfg) { c.alertOpts = append(c.alertOpts, opts...) }
}

// newAlerts builds the engine; its options come after the server's so
// that tests may override them.
func (s *Server) newAlerts() (*alerts.Engine, error) {
	opts := []alerts.Opt{alerts.Every(s.cfg.alertEvery), alerts.Logger(s.cfg.logger.With("part", "alerts")),
		alerts.Registerer(s.metrics.reg), alerts.DashboardURL(s.cfg.dashboardURL)}
	if s.cfg.rulesFile != "" {
		opts = append(opts, alerts.RulesFile(s.cfg.rulesFile))
	}
	return alerts.New(s.store.db, querySource{s}, append(opts, s.cfg.alertOpts...)...)
}

// Alerts is the rule engine, for tests and embedding programs.
func (s *Server) Alerts() *alerts.Engine { return s.alerts }

// runAlerts evaluates the rules once the cache is loaded, until ctx is
// done, and reloads the rule file on SIGHUP. Evaluating an empty cache
// would resolve every firing alert, and a restart would then tell the
// same alert twice.
func (s *Server) runAlerts(ctx context.Context) {
	if s.cfg.rulesFile == "" {
		return
	}
	// SIGHUP is caught from the start: its default would end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	t := time.NewTicker(100 * time.Millisecond)
	for !s.ready.Load() {
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	t.Stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				s.cfg.logger.Info("SIGHUP: reloading the rule file", "file", s.cfg.rulesFile)
				_ = s.alerts.Reload() // a refusal is logged and shown in /v1/rules
			}
		}
	}()
	_ = s.alerts.Run(ctx)
}

// querySource is the query layer as the rule engine reads it.
type querySource struct{ s *Server }

func (q querySource) Pane() time.Duration { return q.s.cfg.pane }

func (q querySource) LevelCounts(_ context.Context, from, to time.Time, instance string) (map[string]map[string]int64, error) {
	ans, err := q.s.Levels(LevelsQuery{Range: Range{From: from, To: to}, Step: to.Sub(from), Instance: instance})
	if err != nil {
		return nil, err
	}
	return ans.Total, nil
}

func (q querySource) TrafficTotal(ctx context.Context, from, to time.Time) (pv, uv, ips int64, err error) {
	ans, err := q.s.Traffic(ctx, TrafficQuery{Range: Range{From: from, To: to}, Step: to.Sub(from)})
	if err != nil {
		return 0, 0, 0, err
	}
	return ans.Total.PV, ans.Total.UV, ans.Total.IPs, nil
}

// HotTermCount is the count the hot view guarantees for the term: its
// estimate less the error bound (exact before the horizon), so a
// threshold never fires on the summary's overestimate alone.
func (q querySource) HotTermCount(_ context.Context, from, to time.Time, term string) (int64, error) {
	return q.s.hotTermCount(Range{From: from, To: to}, term)
}

// ClusterShares is GET /v1/clusters over the window as one bucket, with
// the default k: each macro-cluster's share by its id (0 the largest, as
// /v1/clusters numbers them) and the outlier count.
func (q querySource) ClusterShares(_ context.Context, from, to time.Time) (map[string]float64, int64, error) {
	ans, err := q.s.Clusters(ClustersQuery{Range: Range{From: from, To: to}, Step: to.Sub(from)})
	if err != nil {
		return nil, 0, err
	}
	shares := make(map[string]float64, len(ans.Clusters))
	for i, c := range ans.Clusters {
		shares[strconv.Itoa(i)] = c.Share
	}
	return shares, ans.Outliers, nil
}

// hotTermCount merges the hot summaries of the range, as Hot does, and
// reads one term.
func (s *Server) hotTermCount(r Range, term string) (int64, error) {
	sp, err := s.span(r)
	if err != nil {
		return 0, err
	}
	sn := s.snap.Load()
	states := sn.statesIn(nil, sp.from, sp.to, s.paneSeconds())
	hots := make([]*views.Hot, len(states))
	for i, st := range states {
		hots[i] = st.of(views.ViewHot).Hot
	}
	c, e := views.MergeHot(hots...).Count(term)
	return c - e, nil
}

// AlertsQuery asks for the active alerts and those resolved in a range
// (default: the last 24 hours).
type AlertsQuery struct{ Range }

// defaultAlertsRange is how far back /v1/alerts lists resolved alerts.
const defaultAlertsRange = 24 * time.Hour

// AlertsAnswer is the answer to an AlertsQuery.
type AlertsAnswer struct {
	From, To time.Time
	Alerts   []alerts.Alert
}

// QueryAlerts answers GET /v1/alerts and the Alerts RPC.
func (s *Server) QueryAlerts(ctx context.Context, q AlertsQuery) (*AlertsAnswer, error) {
	from, to, err := s.bounds(q.Range, defaultAlertsRange)
	if err != nil {
		return nil, err
	}
	as, err := s.alerts.Alerts(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return &AlertsAnswer{From: from.UTC(), To: to.UTC(), Alerts: as}, nil
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rg, err := parseRange(q)
	if err != nil {
		writeQueryError(w, q, err)
		return
	}
	ans, err := s.QueryAlerts(r.Context(), AlertsQuery{Range: rg})
	if err != nil {
		writeQueryError(w, q, err)
		return
	}
	active := 0
	for _, a := range ans.Alerts {
		if a.State != alerts.StateResolved {
			active++
		}
	}
	writeJSON(w, http.StatusOK, struct {
		From   string         `json:"from"`
		To     string         `json:"to"`
		Active int            `json:"active"`
		Alerts []alerts.Alert `json:"alerts"`
	}{fmtTime(ans.From), fmtTime(ans.To), active, ans.Alerts})
}

// QueryRules answers GET /v1/rules and the Rules RPC: the rules in force
// with their last evaluation, read from MongoDB so that every serving
// process answers alike whichever evaluates.
func (s *Server) QueryRules(ctx context.Context) (*alerts.RulesAnswer, error) {
	return s.alerts.Rules(ctx)
}

func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	ans, err := s.QueryRules(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// handleRulesReload reloads the rule file: 200 with the rules now in
// force, or 400 with what is wrong (the rules loaded before keep running).
func (s *Server) handleRulesReload(w http.ResponseWriter, r *http.Request) {
	if s.cfg.rulesFile == "" {
		writeError(w, http.StatusConflict, "no rule file to reload (start with --rules FILE)")
		return
	}
	if err := s.alerts.Reload(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.handleRules(w, r)
}

// PatternCounts lists every pattern held by a state of the range (its
// panes, and its whole hours from the hour tier), with its lines summed
// over those states, ids resolved through the range's absorptions.
// Unlike GET /v1/patterns it neither merges the range into one state nor
// keeps a top K: merged, a range keeps views.PatternsCap patterns, and a
// new pattern of a few lines would fold into "(other)" behind the many
// older ones. A state folds only beyond views.PatternsCap patterns of its
// own, and the lines it folded are returned as Folded.
func (q querySource) PatternCounts(_ context.Context, from, to time.Time, level, instance string) (*alerts.PatternSet, error) {
	sp, err := q.s.span(Range{From: from, To: to})
	if err != nil {
		return nil, err
	}
	states := q.s.snap.Load().statesIn(nil, sp.from, sp.to, q.s.paneSeconds())
	// The merge is for the absorptions of the whole range.
	merged := mergePatterns(states)
	set := &alerts.PatternSet{Absorbed: map[string]string{}}
	tmpl := map[patterns.ID]string{}
	for _, a := range merged.Absorptions() {
		set.Absorbed[a.From.String()] = a.To.String()
		tmpl[merged.Resolve(a.From)] = a.Template
	}
	counts := map[patterns.ID]int64{}
	for _, st := range states {
		if st.of(views.ViewPatterns).Patterns == nil {
			continue
		}
		st.of(views.ViewPatterns).Patterns.Each(func(e *views.PatternStat) {
			n, _, _ := e.Filtered(level, instance)
			switch {
			case n == 0:
			case e.ID == views.PatternsOther:
				set.Folded += n
			default:
				id := merged.Resolve(e.ID)
				counts[id] += n
				if id == e.ID {
					tmpl[id] = e.Template
				}
			}
		})
	}
	set.Patterns = make([]alerts.PatternCount, 0, len(counts))
	for id, n := range counts {
		set.Patterns = append(set.Patterns, alerts.PatternCount{ID: id.String(), Template: tmpl[id], Level: level, Count: n})
	}
	slices.SortFunc(set.Patterns, func(a, b alerts.PatternCount) int { return cmp.Compare(a.ID, b.ID) })
	return set, nil
}
