package settings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/schemas/collections"
)

// ContractError is a layer started with settings that differ from those
// the views were computed with: each differing setting with its flag and
// both values.
type ContractError struct {
	Layer    string
	Recorded collections.Contract
	Diffs    []ContractDiff
}

// ContractDiff is one setting that differs.
type ContractDiff struct {
	Flag, Recorded, Given string
}

func (e *ContractError) Error() string {
	var parts []string
	for _, d := range e.Diffs {
		parts = append(parts, fmt.Sprintf("%s %q (this %s) instead of %q (recorded)", d.Flag, d.Given, e.Layer, d.Recorded))
	}
	return fmt.Sprintf("the views of topic %s were computed with other settings (generation %d, recorded by %s at %s): %s; "+
		"start %s with the recorded settings, or with --new-generation to record these (views computed before stay as they are until batch recomputes their hours)",
		e.Recorded.Topic, e.Recorded.Generation, e.Recorded.WrittenBy, e.Recorded.Written.UTC().Format(time.RFC3339),
		strings.Join(parts, "; "), e.Layer)
}

// EnsureContract makes sure the views' contract in coll (the database's
// collections.ContractCollection) is want: written when there is none
// (the first layer to run that defines them all), compared when there is
// one. known lists the flags this layer has (nil: all of want's); the
// others are not compared, and such a layer never writes the contract.
// A difference is a *ContractError unless newGeneration, which replaces
// the recorded settings with want under the next generation and logs it.
// It returns the contract in force.
func EnsureContract(ctx context.Context, coll *mongo.Collection, want collections.Contract, known []string,
	newGeneration bool, log *slog.Logger) (collections.Contract, error) {
	want.ID = collections.ContractID(want.Topic)
	if want.Written.IsZero() {
		want.Written = time.Now().UTC().Truncate(time.Millisecond)
	}
	for attempt := 0; attempt < 2; attempt++ {
		var got collections.Contract
		err := coll.FindOne(ctx, bson.M{"_id": want.ID}).Decode(&got)
		if errors.Is(err, mongo.ErrNoDocuments) && known != nil {
			// A layer that knows only some of the settings (serve: the
			// pane) records none: the zero values of the others would
			// make the layers that define them refuse.
			return want, nil
		}
		if errors.Is(err, mongo.ErrNoDocuments) {
			want.Generation = 1
			if _, err := coll.InsertOne(ctx, want); mongo.IsDuplicateKeyError(err) {
				continue // another layer wrote it first: compare with it
			} else if err != nil {
				return want, fmt.Errorf("write the views' contract %s: %w", want.ID, err)
			}
			log.Info("views' contract recorded", "topic", want.Topic, "by", want.WrittenBy, "generation", want.Generation)
			return want, nil
		}
		if err != nil {
			return want, fmt.Errorf("read the views' contract %s: %w", want.ID, err)
		}
		diffs := diffContract(got, want, known)
		if len(diffs) == 0 {
			return got, nil
		}
		cerr := &ContractError{Layer: want.WrittenBy, Recorded: got, Diffs: diffs}
		if !newGeneration {
			return got, cerr
		}
		// Fill in what this layer does not know from the recorded ones.
		gf, wf := got.Fields(), want.Fields()
		for i := range wf {
			if known != nil && !slices.Contains(known, wf[i].Flag) {
				setField(&want, wf[i].Flag, gf[i].Value, got)
			}
		}
		want.Generation = got.Generation + 1
		if _, err := coll.ReplaceOne(ctx, bson.M{"_id": want.ID}, want, options.Replace().SetUpsert(true)); err != nil {
			return got, fmt.Errorf("write the views' contract %s: %w", want.ID, err)
		}
		log.Warn("views' contract replaced: a new generation of the views' settings", "topic", want.Topic,
			"generation", want.Generation, "by", want.WrittenBy, "was", cerr.Error())
		return want, nil
	}
	return want, fmt.Errorf("views' contract %s: written and gone again", want.ID)
}

func diffContract(got, want collections.Contract, known []string) []ContractDiff {
	var out []ContractDiff
	gf, wf := got.Fields(), want.Fields()
	for i := range wf {
		if known != nil && !slices.Contains(known, wf[i].Flag) {
			continue
		}
		if gf[i].Value != wf[i].Value {
			out = append(out, ContractDiff{Flag: wf[i].Flag, Recorded: gf[i].Value, Given: wf[i].Value})
		}
	}
	return out
}

// setField copies the recorded value of flag from rec into c.
func setField(c *collections.Contract, flag, _ string, rec collections.Contract) {
	switch flag {
	case "--pane":
		c.Pane = rec.Pane
	case "--lateness":
		c.Lateness = rec.Lateness
	case "--format":
		c.Format = rec.Format
	case "--hot-term":
		c.HotTerm = rec.HotTerm
	case "--uv-field":
		c.UVField = rec.UVField
	case "--cluster-fields":
		c.ClusterFields = rec.ClusterFields
	case "--micro-clusters":
		c.MicroClusters = rec.MicroClusters
	case "miner version":
		c.MinerVersion = rec.MinerVersion
	}
}
