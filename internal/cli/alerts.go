package cli

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/loglambda/loglambda/internal/gen"
	"github.com/loglambda/loglambda/serving"
	"github.com/loglambda/loglambda/serving/alerts"
)

// alertFlags are the alerting flags of serve and up, declared once.
type alertFlags struct {
	rules string
	every time.Duration
}

func (a *alertFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.rules, "rules", "", "YAML alert rule file, evaluated every --alert-every and reloaded on SIGHUP or POST /v1/rules/reload; empty: no alerts (up --demo: DATA/rules.yaml, the demo's rules)")
	fs.DurationVar(&a.every, "alert-every", alerts.DefaultEvery, "alert rule evaluation interval")
}

func (a *alertFlags) validate() error {
	if a.every < time.Second || a.every > time.Hour {
		return fmt.Errorf("--alert-every %s is outside 1s..1h", a.every)
	}
	return nil
}

// servingOpts are the serving options of the flags; the dashboard at
// httpAddr is linked from notifications.
func (a *alertFlags) servingOpts(httpAddr string) []serving.Opt {
	opts := []serving.Opt{serving.Rules(a.rules), serving.DashboardURL("http://" + httpAddr + "/")}
	if a.every > 0 { // zero: a configuration not made by the flags; serving's default
		opts = append(opts, serving.AlertEvery(a.every))
	}
	return opts
}

// demoRulesFile writes the demo's rule file to DATA/rules.yaml on the
// first start (an edited one is kept) and returns its path.
func demoRulesFile(data string) (string, error) {
	path := filepath.Join(data, "rules.yaml")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("demo rules: %w", err)
	}
	if err := os.WriteFile(path, gen.DemoRules, 0o644); err != nil {
		return "", fmt.Errorf("demo rules: %w", err)
	}
	return path, nil
}
