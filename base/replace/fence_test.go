package replace

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

type fencedDoc struct {
	ID     string `bson:"_id"`
	Offset int64  `bson:"offset"`
	Writer string `bson:"writer"`
}

// fenced returns n fenced documents d00000.. written by writer, document i
// at offset offs(i), hinted new or not.
func fenced(n int, writer string, isNew bool, offs func(i int) int64) []Doc {
	out := make([]Doc, n)
	for i := range out {
		id := fmt.Sprintf("d%05d", i)
		o := offs(i)
		out[i] = Doc{ID: id, New: isNew, Fenced: true, Offset: o, Body: fencedDoc{ID: id, Offset: o, Writer: writer}}
	}
	return out
}

// TestFencedReplace writes documents as a new owner would (offsets 1000+i),
// then as a zombie with older states for the even documents and newer ones
// for the odd, in every path of the writer (inserts hinted new that find
// the document, plain replaces), over more than one command: the stored
// documents must be the newer of each pair, the refused writes named
// exactly, and equal offsets replaced.
func TestFencedReplace(t *testing.T) {
	db := startMongo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w, err := New(BatchSize(16))
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	owner := func(i int) int64 { return 1000 + int64(i) }
	zombie := func(i int) int64 {
		switch i % 3 {
		case 0:
			return owner(i) - 500 // older: refused
		case 1:
			return owner(i) + 1 // newer: written
		default:
			return owner(i) // the same state: written
		}
	}
	for _, isNew := range []bool{true, false} {
		coll := db.Collection(fmt.Sprintf("fence_%v", isNew))
		if _, err := w.Replace(ctx, coll, fenced(n, "owner", true, owner)); err != nil {
			t.Fatal(err)
		}
		res, err := w.Replace(ctx, coll, fenced(n, "zombie", isNew, zombie))
		if err != nil {
			t.Fatalf("new=%v: %v", isNew, err)
		}
		var wantRefused []Refusal
		for i := range n {
			if i%3 == 0 {
				wantRefused = append(wantRefused, Refusal{ID: fmt.Sprintf("d%05d", i), Offset: zombie(i)})
			}
		}
		slices.SortFunc(res.Refused, func(a, b Refusal) int { return cmpString(a.ID, b.ID) })
		if !slices.Equal(res.Refused, wantRefused) || res.Docs != n {
			t.Fatalf("new=%v: result %d docs, refused %v; want %d docs, refused %v", isNew, res.Docs, res.Refused, n, wantRefused)
		}
		cur, err := coll.Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var got []fencedDoc
		if err := cur.All(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("new=%v: %d documents, want %d", isNew, len(got), n)
		}
		for _, d := range got {
			var i int
			fmt.Sscanf(d.ID, "d%d", &i)
			want := fencedDoc{ID: d.ID, Offset: max(owner(i), zombie(i)), Writer: "zombie"}
			if i%3 == 0 {
				want.Writer = "owner"
			}
			if d != want {
				t.Errorf("new=%v: stored %+v, want %+v", isNew, d, want)
			}
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
