package secure

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MongoTLS is what the connection string cannot say well: a CA bundle
// and a client certificate whose key sits in its own file (the URI's
// tlsCertificateKeyFile wants both in one). Authentication and tls=true
// stay in the URI, as the driver defines it.
type MongoTLS TLSFiles

// Apply sets o's TLS config when any file is given, replacing what the
// URI's tls options built; without files o is left as the URI made it.
func (m MongoTLS) Apply(o *options.ClientOptions) error {
	f := TLSFiles(m)
	if !f.set() {
		return nil
	}
	tc, err := f.Config()
	if err != nil {
		return fmt.Errorf("mongo tls: %w", err)
	}
	o.SetTLSConfig(tc)
	return nil
}
