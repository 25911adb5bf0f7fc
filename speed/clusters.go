package speed

import "github.com/loglambda/loglambda/schemas/views"

// ClusterFields are the numeric event fields the clusters view clusters
// on, comma separated (default views.DefaultClusterFields): latency_ms,
// bytes, status or any extra field holding numbers. Empty: the view
// counts nothing (its documents stay empty). Batch must use the same
// fields, or its states do not merge with speed's.
func ClusterFields(fields string) Opt {
	return own("ClusterFields", func(c *cfg) { c.clusterFields = &fields })
}

// MicroClusters is the number of micro-clusters a pane keeps per
// partition (default views.DefaultMicroClusters).
func MicroClusters(n int) Opt { return own("MicroClusters", func(c *cfg) { c.microClusters = n }) }

// clusterSpec builds the spec of the options, defaults filled in.
func clusterSpec(fields *string, n int) (*views.ClusterSpec, error) {
	f := views.DefaultClusterFields
	if fields != nil {
		f = *fields
	}
	if n == 0 {
		n = views.DefaultMicroClusters
	}
	return views.NewClusterSpec(f, n, views.DefaultClusterBoundary)
}

// ClusterView sets ClusterFields and MicroClusters at once.
func ClusterView(fields string, microClusters int) Opt {
	return own("ClusterView", func(c *cfg) { c.clusterFields, c.microClusters = &fields, microClusters })
}
