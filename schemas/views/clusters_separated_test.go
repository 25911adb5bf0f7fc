package views_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/event"
	"github.com/loglambda/loglambda/schemas/views"
)

// separatedGroup is one kind of request of separatedPoints: log-normal
// latency and size around the given medians.
type separatedGroup struct {
	name          string
	latency, size float64
	n             int
}

// separatedGroups are five groups far apart: a spread of 0.15 in log
// space (about 15 %), medians at least 1.6 apart (more than 10 standard
// deviations), of unequal sizes. 50,000 events over an hour: panes of
// about 200 events per partition, the sparse case where micro-clusters of
// one event took events of other groups before the grid.
var separatedGroups = []separatedGroup{
	{"static", 5, 300, 12442},
	{"page", 60, 20000, 20000},
	{"api", 20, 1500, 4980},
	{"report", 900, 80000, 8000},
	{"upload", 250, 400000, 4578},
}

const separatedSpread = 0.15

func separatedPoints(start time.Time) []qPoint {
	r := rand.New(rand.NewPCG(23, 5))
	var pts []qPoint
	for _, g := range separatedGroups {
		for range g.n {
			pts = append(pts, qPoint{group: g.name, ev: event.Event{
				LatencyMS: math.Round(g.latency*math.Exp(separatedSpread*r.NormFloat64())*1000) / 1000,
				Bytes:     int64(g.size * math.Exp(separatedSpread*r.NormFloat64())),
			}})
		}
	}
	r.Shuffle(len(pts), func(i, j int) { pts[i], pts[j] = pts[j], pts[i] })
	for i := range pts {
		pts[i].ev.Time = start.Add(time.Duration(i) * time.Hour / time.Duration(len(pts)))
		pts[i].part = r.IntN(qualityPartitions)
	}
	return pts
}

// TestClustersSeparated checks the macro-clusters of well separated
// groups against the groups themselves, for a pane, an hour (the hour
// tier) and the union of an hour's panes as serving merges them: every
// group is one cluster, its size within 2 % of the group's (it is exact:
// no micro-cluster spans two groups), its min and max inside the group's
// own, and the sum of squares within 3 % of offline k-means. Sizes count
// every micro-cluster whole under its nearest centre, as serving does.
func TestClustersSeparated(t *testing.T) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	pts := separatedPoints(start)
	for _, tc := range []struct {
		name     string
		from, to time.Time
	}{
		{"pane", start.Add(30 * time.Minute), start.Add(31 * time.Minute)},
		{"hour", start, start.Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := stateOf(t, pts, tc.from, tc.to)
			var mcs []*views.MicroCluster
			for i := range st.Len() {
				mcs = append(mcs, st.Micro(i))
			}
			k := len(separatedGroups)
			centres, _ := views.FitMacro(mcs, k)
			// The truth: per group, its events, min and max in range.
			type truth struct {
				n                int64
				lo, hi           [2]float64
				sumLat, sumBytes float64
			}
			want := map[string]*truth{}
			var xs [][]float64
			for _, p := range pts {
				if p.ev.Time.Before(tc.from) || !p.ev.Time.Before(tc.to) {
					continue
				}
				w := want[p.group]
				raw := [2]float64{p.ev.LatencyMS, float64(p.ev.Bytes)}
				if w == nil {
					w = &truth{lo: raw, hi: raw}
					want[p.group] = w
				}
				w.n++
				for f := range raw {
					w.lo[f], w.hi[f] = min(w.lo[f], raw[f]), max(w.hi[f], raw[f])
				}
				w.sumLat += views.Transform(raw[0])
				w.sumBytes += views.Transform(raw[1])
				xs = append(xs, []float64{views.Transform(raw[0]), views.Transform(raw[1])})
			}
			// Each centre's group: the group whose mean (in log space) is
			// nearest.
			groupOf := func(c []float64) string {
				best, bd := "", math.Inf(1)
				for name, w := range want {
					d := math.Pow(c[0]-w.sumLat/float64(w.n), 2) + math.Pow(c[1]-w.sumBytes/float64(w.n), 2)
					if d < bd {
						best, bd = name, d
					}
				}
				return best
			}
			type got struct {
				n      int64
				lo, hi [2]float64
			}
			clusters := make([]got, len(centres))
			for j := range clusters {
				clusters[j].lo = [2]float64{math.Inf(1), math.Inf(1)}
				clusters[j].hi = [2]float64{math.Inf(-1), math.Inf(-1)}
			}
			for _, m := range mcs {
				j, _ := views.NearestCentre(centres, m.Centroid())
				c := &clusters[j]
				c.n += m.N
				for f := range 2 {
					c.lo[f], c.hi[f] = min(c.lo[f], m.Min[f]), max(c.hi[f], m.Max[f])
				}
			}
			seen := map[string]bool{}
			for j, c := range clusters {
				g := groupOf(centres[j])
				w := want[g]
				seen[g] = true
				off := math.Abs(float64(c.n-w.n)) / float64(w.n)
				t.Logf("%-7s cluster %d: %6d events, group %6d (%.2f %% off); latency [%g, %g] group [%g, %g]; bytes [%g, %g] group [%g, %g]",
					g, j, c.n, w.n, 100*off, c.lo[0], c.hi[0], w.lo[0], w.hi[0], c.lo[1], c.hi[1], w.lo[1], w.hi[1])
				if off > 0.02 {
					t.Errorf("%s: cluster of %d events, the group has %d: %.1f %% off", g, c.n, w.n, 100*off)
				}
				for f := range 2 {
					if c.lo[f] < w.lo[f] || c.hi[f] > w.hi[f] {
						t.Errorf("%s: field %d range [%g, %g] outside the group's [%g, %g]", g, f, c.lo[f], c.hi[f], w.lo[f], w.hi[f])
					}
				}
			}
			if len(seen) != len(want) {
				t.Errorf("%d of %d groups found", len(seen), len(want))
			}
			_, ssq := assign(xs, centres)
			_, off := offlineKMeans(xs, k, 3)
			t.Logf("SSQ ours %.1f offline %.1f ratio %.4f over %d micro-clusters", ssq, off, ssq/off, len(mcs))
			if ssq > 1.03*off {
				t.Errorf("SSQ %.1f more than 3 %% above offline k-means' %.1f", ssq, off)
			}
			if sk, ok := sklearnInertia(t, xs, k); ok {
				t.Logf("scikit-learn KMeans inertia %.1f: ours %.4f of it", sk, ssq/sk)
				if ssq > 1.03*sk {
					t.Errorf("SSQ %.1f more than 3 %% above scikit-learn's %.1f", ssq, sk)
				}
			}
		})
	}
}

// sklearnInertia is scikit-learn's k-means (Debian python3-sklearn, which
// ci/test.sh installs; k-means++ seeding, the best of 10 runs, 3 over
// more than 20,000 points) over xs: its sum of
// squared distances. ok is false when python3 or scikit-learn is missing.
func sklearnInertia(t *testing.T, xs [][]float64, k int) (float64, bool) {
	t.Helper()
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil || testkit.Command(py, "-c", "import sklearn").Run() != nil {
		t.Logf("no python3-sklearn: scikit-learn's k-means not compared (ci/test.sh installs it)")
		return 0, false
	}
	var b strings.Builder
	for _, x := range xs {
		for f, v := range x {
			if f > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		b.WriteByte('\n')
	}
	file := filepath.Join(t.TempDir(), "points.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// 10 seedings, 3 over many points (each costs seconds on 2 busy cores).
	runs := 10
	if len(xs) > 20000 {
		runs = 3
	}
	script := fmt.Sprintf(`import numpy, sys
from sklearn.cluster import KMeans
x = numpy.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
print(KMeans(n_clusters=%d, n_init=%d, random_state=0).fit(x).inertia_)`, k, runs)
	out, err := testkit.Command(py, "-c", script, file).Output()
	if err != nil {
		t.Fatalf("scikit-learn k-means: %v", err)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("scikit-learn k-means printed %q: %v", out, err)
	}
	return v, true
}
