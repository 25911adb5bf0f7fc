package settings

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglambda/loglambda/base/replace"
	"github.com/loglambda/loglambda/schemas/ingest"
)

// testCfg is a layer's configuration as speed's and batch's are: the
// shared settings embedded, one setting of its own.
type testCfg struct {
	Settings
	group string
}

func (c *testCfg) Validate() error {
	if c.group == "" {
		return errors.New("group is empty")
	}
	return nil
}

// otherCfg is another layer's configuration, refusing testCfg's options.
type otherCfg struct{ Settings }

func (c *otherCfg) Validate() error { return nil }

func group(g string) Opt { return Own("group", func(c *testCfg) { c.group = g }) }

func newTest(opts ...Opt) (testCfg, Checked, error) {
	c := testCfg{Settings: Defaults(), group: "g"}
	ck, err := Configure(&c, opts)
	return c, ck, err
}

// TestConfigureDefaults checks the settings with no option: the defaults,
// parsed, and a writer of the layer's own.
func TestConfigureDefaults(t *testing.T) {
	c, ck, err := newTest()
	if err != nil {
		t.Fatal(err)
	}
	if c.Topic != "logs" || c.Pane != time.Minute || c.Lateness != 2*time.Minute || c.Logger == nil {
		t.Errorf("defaults: %+v", c.Settings)
	}
	if ck.Rules.Format() != "json" || ck.Grid.Step() != time.Minute || ck.Writer == nil {
		t.Errorf("checked defaults: format %q, pane %s, writer %v", ck.Rules.Format(), ck.Grid.Step(), ck.Writer)
	}
	if want := []string{"latency_ms", "bytes"}; !reflect.DeepEqual(ck.Clusters.Fields, want) || ck.Clusters.Max != 100 {
		t.Errorf("clusters %+v, want fields %v and 100 micro-clusters", ck.Clusters, want)
	}
}

// TestConfigureOptions checks that the shared options land in Settings
// and the layer's own in its configuration, and that a parsed Rules and
// a Writer given are taken as they are.
func TestConfigureOptions(t *testing.T) {
	rules, err := ingest.Spec{Format: "combined"}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	w, err := replace.New()
	if err != nil {
		t.Fatal(err)
	}
	kopt := kgo.ClientID("x")
	c, ck, err := newTest(Topic("t2"), Pane(5*time.Minute), Lateness(time.Second), Rules(rules),
		Format("xml"), // ignored: Rules wins
		ClusterFields("status"), MicroClusters(7), Writer(w), KafkaOpts(kopt), group("mine"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Topic != "t2" || c.Pane != 5*time.Minute || c.Lateness != time.Second || c.group != "mine" || len(c.KafkaOpts) != 1 {
		t.Errorf("settings %+v, group %q", c.Settings, c.group)
	}
	if ck.Rules.Format() != "combined" || ck.Grid.Step() != 5*time.Minute || ck.Writer != w {
		t.Errorf("checked: format %q, pane %s, writer given %v", ck.Rules.Format(), ck.Grid.Step(), ck.Writer == w)
	}
	if !reflect.DeepEqual(ck.Clusters.Fields, []string{"status"}) || ck.Clusters.Max != 7 {
		t.Errorf("clusters %+v, want status and 7", ck.Clusters)
	}
}

// TestConfigureErrors checks what Configure refuses beyond the checks of
// each shared setting (which speed's TestNewErrors runs through New): a
// nil logger, the layer's own Validate, and one layer's option given to
// another, named.
func TestConfigureErrors(t *testing.T) {
	if _, _, err := newTest(Logger(nil)); err == nil || err.Error() != "logger is nil" {
		t.Errorf("nil logger: %v", err)
	}
	if _, _, err := newTest(group("")); err == nil || err.Error() != "group is empty" {
		t.Errorf("own setting: %v", err)
	}
	other := otherCfg{Settings: Defaults()}
	if _, err := Configure(&other, []Opt{Topic("t"), group("x")}); err == nil || !strings.Contains(err.Error(), "option group is not an option of this layer") {
		t.Errorf("another layer's option: %v", err)
	}
}

// TestConfigureClusterSpec: the clusters view's settings are defaulted
// in Defaults only; zero micro-clusters or an empty field list with zero
// is refused, naming the values, not taken for the default.
func TestConfigureClusterSpec(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Opt
		want string // "" passes
	}{
		{"empty fields and zero", []Opt{ClusterFields(""), MicroClusters(0)}, `cluster fields "", micro-clusters 0`},
		{"zero", []Opt{MicroClusters(0)}, "micro-clusters 0 is smaller than 2"},
		{"one", []Opt{MicroClusters(1)}, "micro-clusters 1"},
		{"empty fields: the view off", []Opt{ClusterFields("")}, ""},
		{"twice", []Opt{ClusterFields("bytes,bytes")}, `"bytes" twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ck, err := newTest(tc.opts...)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want == "" && (len(ck.Clusters.Fields) != 0 || ck.Clusters.Max != DefaultMicroClusters):
				t.Errorf("clusters %+v", ck.Clusters)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}
