package metric

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// gathered is each metric family's help and sample values: counters and
// gauges their value, histograms their sample count.
func gathered(t *testing.T, reg *prometheus.Registry) map[string][]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, mf := range mfs {
		key := mf.GetName() + " " + mf.GetHelp()
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				out[key] = append(out[key], m.GetCounter().GetValue())
			case m.Gauge != nil:
				out[key] = append(out[key], m.GetGauge().GetValue())
			case m.Histogram != nil:
				out[key] = append(out[key], float64(m.GetHistogram().GetSampleCount()))
			}
		}
	}
	return out
}

// TestSet: each kind is registered under its name and help, with its
// labels, and counts; a Set without a registry counts without registering;
// a name registered twice panics.
func TestSet(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := New(reg)
	s.Counter("c_total", "a counter").Add(3)
	cv := s.CounterVec("cv_total", "a counter vector", "a", "b")
	cv.WithLabelValues("x", "y").Inc()
	cv.WithLabelValues("x", "z").Add(2)
	s.Gauge("g", "a gauge").Set(7)
	s.GaugeVec("gv", "a gauge vector", "a").WithLabelValues("x").Set(2)
	h := s.Histogram("h_seconds", "a histogram", []float64{1, 2})
	h.Observe(1.5)
	h.Observe(0.5)
	s.HistogramVec("hv_seconds", "a histogram vector", []float64{1}, "a").WithLabelValues("x").Observe(0.5)
	got := gathered(t, reg)
	want := map[string][]float64{
		"c_total a counter":             {3},
		"cv_total a counter vector":     {1, 2},
		"g a gauge":                     {7},
		"gv a gauge vector":             {2},
		"h_seconds a histogram":         {2},
		"hv_seconds a histogram vector": {1},
	}
	if len(got) != len(want) {
		t.Errorf("gathered %v, want %v", got, want)
	}
	for k, w := range want {
		if g := got[k]; len(g) != len(w) || (len(g) > 0 && (g[0] != w[0] || g[len(g)-1] != w[len(w)-1])) {
			t.Errorf("%s: %v, want %v", k, g, w)
		}
	}
	if mfs, _ := reg.Gather(); len(mfs) > 1 && mfs[1].GetMetric()[0].GetLabel()[0].GetName() != "a" {
		t.Errorf("cv_total labels: %v", mfs[1].GetMetric()[0].GetLabel())
	}

	free := New(nil).Counter("c_total", "a counter")
	free.Inc()
	if len(gathered(t, reg)["c_total a counter"]) != 1 {
		t.Error("a Set without registry registered")
	}
	defer func() {
		if recover() == nil {
			t.Error("a name registered twice did not panic")
		}
	}()
	s.Counter("c_total", "again")
}
