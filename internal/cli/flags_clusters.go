package cli

import (
	"flag"
	"fmt"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/schemas/views"
)

// clusterFlags are the clusters view's settings, which speed and batch
// must share (their states merge only when built alike). Their defaults
// are base/settings'; a command that does not register them (serve, a
// config built in code without them) gives no option and gets those
// defaults. Registered flags are always given, so --micro-clusters 0 is
// refused, not defaulted.
type clusterFlags struct {
	fields     string
	micro      int
	registered bool
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	c.registered = true
	fs.StringVar(&c.fields, "cluster-fields", settings.DefaultClusterFields, "numeric fields the clusters view groups events by, comma separated (latency_ms, bytes, status or any extra field holding numbers; each under log1p); empty: no clusters")
	fs.IntVar(&c.micro, "micro-clusters", settings.DefaultMicroClusters, "micro-clusters the clusters view keeps per pane and partition (at least 2)")
}

// unset reports a command without the flags (serve) or a config built
// in code that leaves them out: the layers then take settings' defaults.
func (c *clusterFlags) unset() bool { return !c.registered && c.fields == "" && c.micro == 0 }

// opts are the settings options of the flags: none when unset.
func (c *clusterFlags) opts() []settings.Opt {
	if c.unset() {
		return nil
	}
	return []settings.Opt{settings.ClusterFields(c.fields), settings.MicroClusters(c.micro)}
}

// validate checks the flags with the check settings.Check makes, naming
// them: --micro-clusters 0 is refused, never taken for the default.
func (c *clusterFlags) validate() error {
	if c.unset() {
		return nil
	}
	if _, err := views.NewClusterSpec(c.fields, c.micro, views.DefaultClusterCell); err != nil {
		return fmt.Errorf("--cluster-fields %q --micro-clusters %d: %w", c.fields, c.micro, err)
	}
	return nil
}
