package patterns

// rule names one of the tokenizer's and miner's rules that can be turned
// off, for the leave-one-system-out score (heldout_test.go): the test
// measures, per Loghub system, what each rule gains there, and scores each
// system with only the rules that other systems motivate, the miner as it
// would be had that system's file never been in view. A rule motivated
// by one system only is suspect. The miner runs with none off; the set
// is in Options only as an unexported field, for the tests.
type rule uint32

const (
	rURLScheme    rule = 1 << iota // a URL keeps its scheme: hdfs://<*>
	rNumberedName                  // a numbered name (ssh2, eth0) is shown until a second is seen
	rNamePrefix                    // a number keeps the name it numbers: node-<*>, core.<*>, CPU#<*>
	rClassShown                    // a qualified class name is shown until a second is seen
	rUnitShown                     // a unit after a number is shown until another one is seen: <*> ms
	rRestated                      // a quantity restated in brackets joins it: 4464 bytes (4.35 KB)
	rFieldColon                    // fieldName:value as code prints a field: the name stays
	rDotLeader                     // a label with a leader of dots: depth.........<*>
	rMultiValue                    // values apart in one token stay apart: <*>/<*>, <*>|<*>
	rLiteral                       // true, false, null are values
	rHostTLD                       // a lower-case dotted name ending in a top-level domain is a host
	rRelativePath                  // a relative path with a dotted name is a value: conf/app.yaml
	rTimeWords                     // month and weekday names next to a variable are part of a date
	rEmptyValue                    // an empty pair of brackets or quotes is an empty value
	rWordValues                    // a place of plain words becomes <*> at the third word, not the second
	rCallName                      // a function's name is code, its digits too: env.createBean2(), jk2_init()
	rUnderscore                    // numbers joined by '_' are values apart: <*>_<*>
	rProduct                       // a product's comment is part of its version: Apache/2.2.3 (Fedora)
	rWebURL                        // a web address (http, https, ftp, ws) is one value, its scheme too: <*>
	rUserName                      // the well-known account names (root, admin) are user names: values
	rAngle                         // angle brackets glued to a value are part of it: <*> for <0x7f00>
	rPathField                     // a path after a label's colon is a value: path:<*>
	rPathDot                       // a path runs to the white space, a full stop after it too
	rUnitSiblings                  // a pattern's quantities of one dimension show their units together
	rules                          // the number of rules, as a bit: not a rule
)

// ruleNames are the rules' names in the test's report, in bit order.
var ruleNames = [...]string{"url-scheme", "numbered-name", "name-prefix", "class-shown", "unit-shown",
	"restated", "field-colon", "dot-leader", "multi-value", "literal", "host-tld", "relative-path",
	"time-words", "empty-value", "word-values", "call-name", "underscore", "product",
	"web-url", "user-name", "angle", "path-field", "path-dot", "unit-siblings"}
