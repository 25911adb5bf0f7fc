package gen

// The vocabulary is ordered by popularity: the Zipf rank of a term is its
// index in searchTerms. Every string here is plain lower-case ASCII without
// quotes or backslashes, so lines are written without JSON escaping.

// searchNouns are the head of the distribution; combinations of modifiers
// and nouns make the long tail (see buildTerms).
var searchNouns = []string{
	"shoes", "iphone", "laptop", "headphones", "dress", "tv", "jacket", "watch",
	"backpack", "sneakers", "coffee maker", "jeans", "ps5", "airpods", "tablet",
	"camera", "sofa", "desk", "monitor", "keyboard", "mouse", "charger",
	"phone case", "sunglasses", "perfume", "t-shirt", "hoodie", "boots",
	"vacuum cleaner", "air fryer", "blender", "mattress", "lamp", "rug",
	"water bottle", "yoga mat", "bike", "helmet", "tent", "drone", "speaker",
	"router", "ssd", "printer", "kettle", "toaster", "pillow", "curtains",
	"wallet", "handbag", "belt", "scarf", "gloves", "socks", "swimsuit",
	"lego", "puzzle", "board game", "book", "notebook",
}

var searchModifiers = []string{
	"red", "black", "white", "cheap", "wireless", "kids", "mens", "womens",
	"leather", "waterproof", "gaming", "running", "vintage", "organic",
	"portable", "smart", "large", "mini", "blue", "pink", "best", "used",
	"refurbished", "4k",
}

// buildTerms returns the ranked vocabulary: the nouns, then every
// modifier-noun pair, interleaved so that the popular nouns' pairs rank
// first.
func buildTerms() []string {
	terms := make([]string, 0, len(searchNouns)*(1+len(searchModifiers)))
	terms = append(terms, searchNouns...)
	for _, n := range searchNouns {
		for _, m := range searchModifiers {
			terms = append(terms, m+" "+n)
		}
	}
	return terms
}

// staticPaths are assets fetched with page views.
var staticPaths = []string{
	"/static/app.js", "/static/vendor.js", "/static/css/main.css",
	"/static/fonts/inter.woff2", "/favicon.ico", "/static/img/logo.svg",
}

// dbInfo, dbWarn and dbError are application messages of the DB instances;
// %d stands for a number filled at random, so the patterns view sees one
// template with varying parameters.
var (
	dbInfo = []string{
		"query ok rows=%d in %dms",
		"checkpoint complete: wrote %d buffers in %dms",
		"connection accepted from 10.0.1.%d port %d",
		"autovacuum: processed table orders, removed %d dead tuples in %dms",
		"replication ok: standby lag %dms, sent %d bytes",
	}
	dbWarn = []string{
		"slow query: SELECT * FROM orders WHERE user_id = %d took %dms",
		"replication lag %ds exceeds %ds",
		"connection pool at %d of %d connections",
		"lock wait %dms on relation %d",
	}
	dbError = []string{
		"deadlock detected: process %d waits for ShareLock on transaction %d",
		"could not serialize access due to concurrent update (tx %d, retry %d)",
		"canceling statement due to statement timeout after %dms (pid %d)",
	}
	// burstErrors are what an instance logs during an error burst.
	burstErrors = []string{
		"connection refused to 10.0.3.7:5432",
		"connection refused to 10.0.3.%d:5432",
		"pool exhausted: 0 of %d connections available, waited %dms",
		"could not connect to server: connection refused (attempt %d)",
	}
	// web5xx are the messages of failed requests.
	web5xx = []string{
		"upstream error: connection refused to 10.0.3.7:5432",
		"upstream timeout after %dms",
		"internal error: pool exhausted after %dms",
	}
)
