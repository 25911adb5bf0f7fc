package secure_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/loglambda/loglambda/base/secure"
	"github.com/loglambda/loglambda/base/secure/securetest"
	"github.com/loglambda/loglambda/internal/embedded"
	"github.com/loglambda/loglambda/internal/testkit"
)

// TestMongoTLS connects the driver to the embedded FerretDB listening on
// TLS only, requiring client certificates: a write and a read through the
// CA and client certificate flags' options, and the refusals.
func TestMongoTLS(t *testing.T) {
	certs := securetest.New(t)
	srv := testkit.Mongo(t, embedded.MongoConfig{DataDir: t.TempDir(),
		TLSCertFile: certs.ServerCert, TLSKeyFile: certs.ServerKey, TLSCAFile: certs.CA})
	other := securetest.New(t) // a CA that signed nothing of the server's
	cases := []struct {
		name string
		tls  secure.MongoTLS
		uri  string
		ok   bool
	}{
		{"ca and client certificate", secure.MongoTLS{CAFile: certs.CA, CertFile: certs.ClientCert, KeyFile: certs.ClientKey}, srv.URI(), true},
		{"without tls=true in the uri", secure.MongoTLS{CAFile: certs.CA, CertFile: certs.ClientCert, KeyFile: certs.ClientKey},
			strings.Replace(srv.URI(), "?tls=true", "", 1), true},
		{"no client certificate", secure.MongoTLS{CAFile: certs.CA}, srv.URI(), false},
		{"another CA", secure.MongoTLS{CAFile: other.CA, CertFile: certs.ClientCert, KeyFile: certs.ClientKey}, srv.URI(), false},
		{"client certificate of another CA", secure.MongoTLS{CAFile: certs.CA, CertFile: other.ClientCert, KeyFile: other.ClientKey}, srv.URI(), false},
		{"no files: system roots", secure.MongoTLS{}, srv.URI(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := options.Client().ApplyURI(c.uri).SetServerSelectionTimeout(3 * time.Second)
			if err := c.tls.Apply(o); err != nil {
				t.Fatal(err)
			}
			cl, err := mongo.Connect(o)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			defer cl.Disconnect(ctx)
			coll := cl.Database("tlstest").Collection("docs")
			_, err = coll.ReplaceOne(ctx, bson.M{"_id": c.name}, bson.M{"_id": c.name, "n": 7}, options.Replace().SetUpsert(true))
			if !c.ok {
				if err == nil {
					t.Fatal("write succeeded; want the handshake refused")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got struct{ N int }
			if err := coll.FindOne(ctx, bson.M{"_id": c.name}).Decode(&got); err != nil || got.N != 7 {
				t.Fatalf("read back %+v, %v", got, err)
			}
		})
	}
	if err := (secure.MongoTLS{CertFile: certs.ClientCert}).Apply(options.Client()); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("certificate without key: %v", err)
	}
}
