package lakesql

import "github.com/loglambda/loglambda/schemas/lakefiles"

// ErrNoLake is returned when the topic has no lake files yet: there is
// nothing to query until `loglambda batch compact` writes some.
var ErrNoLake = lakefiles.ErrNoLake
