package embedded_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
)

// TestIDIndex checks that a collection gets the index FerretDB's lookups by
// _id can use: SQLite's own query plan for FerretDB's expression must
// search the index, not scan the table.
func TestIDIndex(t *testing.T) {
	ctx := testkit.Context(t, time.Minute)
	dir := t.TempDir()
	m := testkit.Mongo(t, embedded.MongoConfig{DataDir: dir})
	coll := testkit.Client(t, m.URI()).Database("idx").Collection("docs")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "a", "n": 1}); err != nil {
		t.Fatal(err)
	}
	if err := m.IndexIDs(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "idx.sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var table string
	if err := db.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = 'docs'`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	// The statement FerretDB v1.24 runs for a find or replace by _id.
	rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM `+embedded.QuoteIdent(table)+` WHERE _ferretdb_sjson->'$._id' = ?`, `"a"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if got := strings.Join(plan, "; "); !strings.Contains(got, "USING INDEX "+table+embedded.IDIndexSuffix) {
		t.Fatalf("plan of a lookup by _id: %q, want it to use index %s", got, table+embedded.IDIndexSuffix)
	}
	// The document is still found by its _id.
	var doc struct {
		N int `bson:"n"`
	}
	if err := coll.FindOne(ctx, bson.M{"_id": "a"}).Decode(&doc); err != nil || doc.N != 1 {
		t.Fatalf("find by _id: %v, n=%d", err, doc.N)
	}
}
