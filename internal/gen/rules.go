package gen

import _ "embed"

// DemoRules is the alert rule file of the demo (demo-rules.yaml): it fires
// on the error bursts the generator makes, so `loglambda up --demo` shows
// alerts without any setup.
//
//go:embed demo-rules.yaml
var DemoRules []byte
