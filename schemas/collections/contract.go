package collections

import (
	"fmt"
	"time"
)

// ContractCollection holds one Contract per topic: the settings the views
// of the database were computed with.
const ContractCollection = "contract"

// ContractID is the _id of a topic's Contract.
func ContractID(topic string) string { return "contract|" + topic }

// Contract is the settings that define the views, written once by the
// first layer that runs (speed, batch, serve or up) beside the views; a
// layer started with other settings refuses to run, naming the setting's
// flag and both values, unless told to start a new generation
// (--new-generation), which records its settings under the next
// Generation.
type Contract struct {
	ID    string `bson:"_id" json:"-"`
	Topic string `bson:"topic" json:"topic"`
	// Generation counts the times the settings were replaced on purpose;
	// 1 for the first.
	Generation int64 `bson:"generation" json:"generation"`
	// Pane and Lateness as Go durations ("1m0s").
	Pane          string `bson:"pane" json:"pane"`
	Lateness      string `bson:"lateness" json:"lateness"`
	Format        string `bson:"format" json:"format"`
	HotTerm       string `bson:"hot_term" json:"hot_term"`
	UVField       string `bson:"uv_field" json:"uv_field"`
	ClusterFields string `bson:"cluster_fields" json:"cluster_fields"`
	MicroClusters int    `bson:"micro_clusters" json:"micro_clusters"`
	// MinerVersion is patterns.MinerVersion of the layer that wrote it.
	MinerVersion int       `bson:"miner_version" json:"miner_version"`
	WrittenBy    string    `bson:"written_by" json:"written_by"`
	Written      time.Time `bson:"written" json:"written"`
}

// ContractField is one setting of a Contract: its flag and value.
type ContractField struct {
	Flag, Value string
}

// Fields lists the settings of c by flag, in a fixed order; a layer that
// does not have a setting (serve reads no format) leaves it empty and it
// is not compared.
func (c Contract) Fields() []ContractField {
	micro := ""
	if c.MicroClusters != 0 || c.ClusterFields != "" {
		micro = fmt.Sprint(c.MicroClusters)
	}
	miner := ""
	if c.MinerVersion != 0 {
		miner = fmt.Sprint(c.MinerVersion)
	}
	return []ContractField{
		{"--pane", c.Pane}, {"--lateness", c.Lateness}, {"--format", c.Format}, {"--hot-term", c.HotTerm},
		{"--uv-field", c.UVField}, {"--cluster-fields", c.ClusterFields}, {"--micro-clusters", micro},
		{"miner version", miner},
	}
}

// CurrentGeneration is the generation a document, checkpoint or horizon
// written with generation g belongs to: g, or 1 for one written before
// generations were recorded (0, absent).
func CurrentGeneration(g int64) int64 { return max(g, 1) }
