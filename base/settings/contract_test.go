package settings_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/loglambda/loglambda/base/settings"
	"github.com/loglambda/loglambda/internal/testkit"
	"github.com/loglambda/loglambda/schemas/collections"
)

// TestEnsureContract runs the layers' contract against the embedded
// store: the first layer records it; the same settings pass; other
// settings are refused naming each flag and both values, only those the
// layer has (serve: the pane); --new-generation records them under the
// next generation, after which the old settings are the ones refused.
func TestEnsureContract(t *testing.T) {
	ctx := context.Background()
	coll := testkit.MongoClient(t).Database("contract_test").Collection(collections.ContractCollection)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	speedC := collections.Contract{Topic: "logs", Pane: "1m0s", Lateness: "2m0s", Format: "json", HotTerm: "param:q,Input",
		UVField: "user,ip", ClusterFields: "latency_ms", MicroClusters: 100, MinerVersion: 2, WrittenBy: "speed"}
	got, err := settings.EnsureContract(ctx, coll, speedC, nil, false, log)
	if err != nil || got.Generation != 1 {
		t.Fatalf("first: %+v, %v", got, err)
	}
	if _, err := settings.EnsureContract(ctx, coll, speedC, nil, false, log); err != nil {
		t.Fatalf("same settings: %v", err)
	}
	batchC := speedC
	batchC.WrittenBy, batchC.ClusterFields, batchC.Lateness = "batch", "latency_ms,bytes", "5m0s"
	_, err = settings.EnsureContract(ctx, coll, batchC, nil, false, log)
	var ce *settings.ContractError
	if !errors.As(err, &ce) || len(ce.Diffs) != 2 {
		t.Fatalf("other settings: %v, want a ContractError of 2 settings", err)
	}
	for _, want := range []string{`--cluster-fields "latency_ms,bytes" (this batch) instead of "latency_ms" (recorded)`,
		`--lateness "5m0s" (this batch) instead of "2m0s" (recorded)`, "recorded by speed", "--new-generation"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	// serve has only the pane: other cluster fields are not its business.
	serveC := collections.Contract{Topic: "logs", Pane: "1m0s", ClusterFields: "status", WrittenBy: "serve"}
	if _, err := settings.EnsureContract(ctx, coll, serveC, []string{"--pane"}, false, log); err != nil {
		t.Fatalf("serve with the recorded pane: %v", err)
	}
	serveC.Pane = "5m0s"
	if _, err := settings.EnsureContract(ctx, coll, serveC, []string{"--pane"}, false, log); err == nil || !strings.Contains(err.Error(), `--pane "5m0s" (this serve) instead of "1m0s"`) {
		t.Fatalf("serve with another pane: %v", err)
	}
	// A new generation: batch's settings recorded, speed's refused.
	got, err = settings.EnsureContract(ctx, coll, batchC, nil, true, log)
	if err != nil || got.Generation != 2 || got.ClusterFields != "latency_ms,bytes" {
		t.Fatalf("new generation: %+v, %v", got, err)
	}
	if _, err := settings.EnsureContract(ctx, coll, speedC, nil, false, log); !errors.As(err, &ce) || ce.Recorded.Generation != 2 {
		t.Fatalf("speed after the new generation: %v", err)
	}
	// A new generation from serve keeps what serve does not know.
	serveC.Pane = "5m0s"
	if got, err = settings.EnsureContract(ctx, coll, serveC, []string{"--pane"}, true, log); err != nil || got.Pane != "5m0s" || got.ClusterFields != "latency_ms,bytes" || got.Generation != 3 {
		t.Fatalf("serve's new generation: %+v, %v", got, err)
	}
	if n, err := coll.CountDocuments(ctx, bson.M{}); err != nil || n != 1 {
		t.Fatalf("%d contract documents, %v: want 1", n, err)
	}
}
