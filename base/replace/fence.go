package replace

import (
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FenceField is the field of a fenced document (Doc.Epoch > 0) that makes
// its write conditional on the epoch of its last writer.
//
// Why a structure and not a filter on an epoch field: the embedded
// FerretDB pushes a filter down to SQLite only when it is {_id} alone and
// answers any other by decoding the whole collection (measured: a replace
// filtered on _id and one more field, in a collection of 305 pane
// documents, took 10-34 s per 64 documents against 0.2-0.9 s by _id
// alone). A write by _id can still be refused by the store, though: an
// update that sets a path through a field holding a number fails ("Cannot
// create field ... in element"), in MongoDB and in FerretDB alike. So a
// fenced write of epoch E sets, under FenceField, E's path and a number at
// the sibling of each node of that path with a smaller key: those numbers
// cover every epoch below E, and no larger one. E's path is the number of
// its base-16 digits, then the digits, most significant first, as nested
// documents. A later write of an epoch F < E goes down F's path and meets
// one of those numbers (at its length if F has fewer digits, else at its
// first smaller digit) and is refused; a write of an epoch >= E meets none
// (E's own numbers lie beside its path, and an older writer's lie below
// E). The structure holds at most 8 + 8 x 15 numbers and 10 levels; an
// epoch below 16, the usual, 3 levels: the store decodes and encodes the
// fence with every write of the document, so its depth is paid on each
// (the first form, 8 digits always, 9 levels, cost a fenced insert of a
// small pane document about as much again as the document itself).
//
// Documents fenced by that first form (every digit under the length key
// "a") refuse nothing this form writes, and the first write of this form
// turns "a" into a number, which refuses every later write of the first
// form: a speed process of an older release cannot overwrite, or claim,
// what one of this release wrote; upgrade a group's processes together.
const FenceField = "fence"

// fenceDigits is the largest number of base-16 digits of an epoch: epochs
// below 2^32.
const fenceDigits = 8

// fenceKeys names the digits (and the lengths) as field names: letters,
// so that no path component reads as an array index.
const fenceKeys = "abcdefghijklmnop"

// FenceSets returns the $set elements that fence a document for epoch:
// the numbers below its path and its path's leaf. A claim of a document
// for a new epoch sets them (with its other fields) by _id, so that every
// later fenced write of an older epoch is refused.
func FenceSets(epoch int64) (bson.D, error) {
	if epoch <= 0 || epoch >= 1<<(4*fenceDigits) {
		return nil, fmt.Errorf("epoch %d outside 1..2^%d-1", epoch, 4*fenceDigits)
	}
	n := 1 // base-16 digits of epoch
	for epoch>>(4*n) > 0 {
		n++
	}
	var sets bson.D
	prefix := FenceField
	// below reaches the numbers below key k of the node at prefix, then
	// goes down to k.
	below := func(k int) {
		for v := 0; v < k; v++ {
			sets = append(sets, bson.E{Key: prefix + "." + fenceKeys[v:v+1], Value: int32(0)})
		}
		prefix += "." + fenceKeys[k:k+1]
	}
	below(n)
	for i := n - 1; i >= 0; i-- {
		below(int((epoch >> (4 * i)) & 0xf))
	}
	return append(sets, bson.E{Key: prefix + ".w", Value: int32(1)}), nil
}

// fenceDoc returns the FenceField value a fenced insert of epoch writes:
// the document the sets of FenceSets make in an empty one.
func fenceDoc(epoch int64) (bson.D, error) {
	sets, err := FenceSets(epoch)
	if err != nil {
		return nil, err
	}
	root := bson.D{}
	for _, e := range sets {
		root = setPath(root, strings.Split(strings.TrimPrefix(e.Key, FenceField+"."), "."), e.Value)
	}
	return root, nil
}

// setPath sets path in d to v, creating documents on the way.
func setPath(d bson.D, path []string, v any) bson.D {
	for i := range d {
		if d[i].Key == path[0] {
			if len(path) == 1 {
				d[i].Value = v
			} else {
				d[i].Value = setPath(d[i].Value.(bson.D), path[1:], v)
			}
			return d
		}
	}
	if len(path) == 1 {
		return append(d, bson.E{Key: path[0], Value: v})
	}
	return append(d, bson.E{Key: path[0], Value: setPath(bson.D{}, path[1:], v)})
}

// Fenced returns raw with FenceField for epoch added: the document a
// fenced insert of epoch writes.
func Fenced(raw bson.Raw, epoch int64) (bson.Raw, error) {
	fd, err := fenceDoc(epoch)
	if err != nil {
		return nil, err
	}
	els, err := raw.Elements()
	if err != nil {
		return nil, err
	}
	d := make(bson.D, 0, len(els)+1)
	for _, e := range els {
		if e.Key() != FenceField {
			d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
		}
	}
	return bson.Marshal(append(d, bson.E{Key: FenceField, Value: fd}))
}

// fencedUpdate returns the update of a fenced write of raw: every field of
// raw set (fields the stored document has and raw lacks stay) and the
// fence of epoch.
func fencedUpdate(raw bson.Raw, epoch int64) (bson.D, error) {
	sets, err := FenceSets(epoch)
	if err != nil {
		return nil, err
	}
	els, err := raw.Elements()
	if err != nil {
		return nil, err
	}
	d := make(bson.D, 0, len(els)+len(sets))
	for _, e := range els {
		if k := e.Key(); k != "_id" && k != FenceField {
			d = append(d, bson.E{Key: k, Value: e.Value()})
		}
	}
	return bson.D{{Key: "$set", Value: append(d, sets...)}}, nil
}
