package replace

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

type smallDoc struct {
	ID  string `bson:"_id"`
	N   int    `bson:"n"`
	Pad string `bson:"pad"`
}

func smallDocs(n, gen int) []Doc {
	out := make([]Doc, n)
	for i := range out {
		id := fmt.Sprintf("d%05d", i)
		out[i] = Doc{ID: id, Body: smallDoc{ID: id, N: gen*100000 + i, Pad: "0123456789abcdef"}}
	}
	return out
}

// hinted marks every k-th document New (k = 1: all).
func hinted(docs []Doc, k int) []Doc {
	for i := range docs {
		docs[i].New = i%k == 0
	}
	return docs
}

// TestReplaceManyExisting replaces far more existing documents than
// FerretDB's SQLite pool has connections (the store wedged at about 100 in
// one command), and checks every command's size and every document.
func TestReplaceManyExisting(t *testing.T) {
	db := startMongo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cmds []Command
	w, err := New(OnCommand(func(c Command) { cmds = append(cmds, c) }))
	if err != nil {
		t.Fatal(err)
	}
	coll := db.Collection("many")
	const n = 700
	// Generation 1 inserts (hinted new, rightly), 2 replaces every existing
	// document, 3 and 4 are hinted new wrongly (all, then every third):
	// the inserts find the documents and replace them.
	hints := map[int]int{1: 1, 2: n + 1, 3: 1, 4: 3}
	for gen := 1; gen <= 4; gen++ {
		cmds = nil
		res, err := w.Replace(ctx, coll, hinted(smallDocs(n, gen), hints[gen]))
		if err != nil {
			t.Fatalf("generation %d: %v", gen, err)
		}
		if res.Docs != n || res.Commands != (n+MaxBatch-1)/MaxBatch || res.Bytes <= 0 {
			t.Fatalf("generation %d: result %+v, want %d docs in %d commands", gen, res, n, (n+MaxBatch-1)/MaxBatch)
		}
		total := 0
		for _, c := range cmds {
			if c.Docs > MaxBatch || c.Err != nil || c.Collection != "many" {
				t.Fatalf("command %+v", c)
			}
			total += c.Docs
		}
		if total != n {
			t.Fatalf("commands wrote %d documents, want %d", total, n)
		}
		cur, err := coll.Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var got []smallDoc
		if err := cur.All(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("generation %d: %d documents stored, want %d", gen, len(got), n)
		}
		for _, d := range got {
			var i int
			fmt.Sscanf(d.ID, "d%d", &i)
			if d.N != gen*100000+i {
				t.Fatalf("generation %d: %s holds n=%d", gen, d.ID, d.N)
			}
		}
	}
}

// TestReplaceStopsAtFailure checks that a failing command stops the write
// and that Result names the written prefix.
func TestReplaceStopsAtFailure(t *testing.T) {
	db := startMongo(t)
	ctx := context.Background()
	w, err := New(BatchSize(10))
	if err != nil {
		t.Fatal(err)
	}
	docs := smallDocs(35, 1)
	docs[23].Body = func() {} // cannot be encoded: the third command fails
	res, err := w.Replace(ctx, db.Collection("fail"), docs)
	if err == nil {
		t.Fatal("no error")
	}
	if res.Docs != 20 || res.Commands != 2 {
		t.Fatalf("result %+v, want the first 20 documents in 2 commands", res)
	}
	n, err := db.Collection("fail").CountDocuments(ctx, bson.D{})
	if err != nil || n != 20 {
		t.Fatalf("%d documents stored (%v), want 20", n, err)
	}
	// A cancelled context fails at once, naming the cause.
	cctx, cancel := context.WithCancelCause(ctx)
	cancel(errors.New("stopping"))
	if _, err := w.Replace(cctx, db.Collection("fail"), smallDocs(5, 2)); err == nil {
		t.Fatal("no error with a cancelled context")
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		opts []Opt
		ok   bool
	}{
		{nil, true},
		{[]Opt{BatchSize(MaxBatch)}, true},
		{[]Opt{BatchSize(MaxBatch + 1)}, false},
		{[]Opt{BatchSize(0)}, false},
		{[]Opt{CommandTimeout(0)}, false},
		{[]Opt{CommandTimeout(time.Second)}, true},
	} {
		if _, err := New(tc.opts...); (err == nil) != tc.ok {
			t.Errorf("New(%d options): err %v, want ok=%v", len(tc.opts), err, tc.ok)
		}
	}
}

// TestFencedWrites writes one document with a sequence of epochs, hinted
// new or not, and checks each write against an independent rule: it is
// written if and only if its epoch is at least every epoch written before
// (refused otherwise, the stored document unchanged).
func TestFencedWrites(t *testing.T) {
	db := startMongo(t)
	ctx := context.Background()
	w, err := New()
	if err != nil {
		t.Fatal(err)
	}
	coll := db.Collection("fenced")
	epochs := []int64{2, 1, 2, 3, 2, 15, 16, 15, 17, 0x100, 0xff, 0x101, 0x1234567, 0x1234566, 0x1234568, 0x7fffffff, 1, 0x7fffffff}
	var high int64
	stored := -1
	for i, e := range epochs {
		docs := []Doc{
			{ID: "x", Body: smallDoc{ID: "x", N: i}, Epoch: e, New: i%3 == 0},
			{ID: fmt.Sprintf("new%d", i), Body: smallDoc{ID: fmt.Sprintf("new%d", i), N: i}, Epoch: e, New: i%2 == 0},
		}
		res, err := w.Replace(ctx, coll, docs)
		if err != nil {
			t.Fatalf("write %d (epoch %#x): %v", i, e, err)
		}
		want := e >= high
		if want {
			high, stored = e, i
		}
		if got := len(res.Refused) == 0; got != want || (len(res.Refused) == 1 && res.Refused[0] != "x") {
			t.Fatalf("write %d (epoch %#x, highest before %#x): refused %v", i, e, high, res.Refused)
		}
		var d smallDoc
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "x"}}).Decode(&d); err != nil || d.N != stored {
			t.Fatalf("after write %d (epoch %#x): stored n=%d (%v), want %d", i, e, d.N, err, stored)
		}
	}
	if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != int64(len(epochs)+1) {
		t.Fatalf("%d documents (%v), want %d: every new one written", n, err, len(epochs)+1)
	}
	if _, err := w.Replace(ctx, coll, []Doc{{ID: "y", Body: smallDoc{ID: "y"}, Epoch: 1 << 32}}); err == nil {
		t.Fatal("an epoch of 2^32 was accepted")
	}
}

// TestFenceFirstForm checks the passage from the fence's first form (8
// base-16 digits always, FenceField's documentation) to its form with the
// length first: a write of this form is not refused by a first-form fence,
// and turns it into one that refuses every first-form write after it,
// whatever its epoch.
func TestFenceFirstForm(t *testing.T) {
	db := startMongo(t)
	ctx := context.Background()
	coll := db.Collection("fenced")
	// firstForm is the first form's $set for epoch, written out again here.
	firstForm := func(epoch int64) bson.D {
		var sets bson.D
		prefix := FenceField
		for i := 7; i >= 0; i-- {
			d := int((epoch >> (4 * i)) & 0xf)
			for v := 0; v < d; v++ {
				sets = append(sets, bson.E{Key: prefix + "." + string(rune('a'+v)), Value: int32(0)})
			}
			prefix += "." + string(rune('a'+d))
		}
		return append(sets, bson.E{Key: prefix + ".w", Value: int32(1)}, bson.E{Key: "n", Value: int(epoch)})
	}
	upsert := options.UpdateOne().SetUpsert(true)
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "x"}}, bson.D{{Key: "$set", Value: firstForm(5)}}, upsert); err != nil {
		t.Fatal(err)
	}
	w, err := New()
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Replace(ctx, coll, []Doc{{ID: "x", Body: smallDoc{ID: "x", N: 3}, Epoch: 3}})
	if err != nil || len(res.Refused) != 0 {
		t.Fatalf("a write of epoch 3 over a first-form fence of epoch 5: refused %v, %v", res.Refused, err)
	}
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "x"}}, bson.D{{Key: "$set", Value: firstForm(9)}})
	var we mongo.WriteException
	if !errors.As(err, &we) || len(we.WriteErrors) != 1 || we.WriteErrors[0].Code != codePathNotViable {
		t.Fatalf("a first-form write of epoch 9 after one of this form (epoch 3): %v, want refused", err)
	}
	var d smallDoc
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "x"}}).Decode(&d); err != nil || d.N != 3 {
		t.Fatalf("stored n=%d (%v), want 3", d.N, err)
	}
}
