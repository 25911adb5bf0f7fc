package cli

import (
	"flag"
	"fmt"

	"github.com/loglambda/loglambda/schemas/views"
)

// clusterFlags are the clusters view's settings, which speed and batch
// must share (their states merge only when built alike).
type clusterFlags struct {
	fields string
	micro  int
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.fields, "cluster-fields", views.DefaultClusterFields, "numeric fields the clusters view groups events by, comma separated (latency_ms, bytes, status or any extra field holding numbers; each under log1p); empty: no clusters")
	fs.IntVar(&c.micro, "micro-clusters", views.DefaultMicroClusters, "micro-clusters the clusters view keeps per pane and partition")
}

func (c *clusterFlags) validate() error {
	if c.micro == 0 && c.fields == "" {
		return nil // not registered (serve)
	}
	if _, err := views.NewClusterSpec(c.fields, c.micro, views.DefaultClusterCell); err != nil {
		return fmt.Errorf("--cluster-fields %q --micro-clusters %d: %w", c.fields, c.micro, err)
	}
	return nil
}

// defaulted fills in the defaults of a config built in code (tests).
func (c clusterFlags) defaulted() clusterFlags {
	if c.micro == 0 {
		c.fields, c.micro = views.DefaultClusterFields, views.DefaultMicroClusters
	}
	return c
}
