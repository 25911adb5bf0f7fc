package embedded

// What the external tests (package embedded_test, which can use testkit)
// read of this package's internals.
var QuoteIdent = quoteIdent

const IDIndexSuffix = idIndexSuffix
