package replace

import (
	"fmt"
	"time"
)

// Opt configures a Writer; see New.
type Opt interface{ apply(*cfg) }

type optFunc func(*cfg)

func (f optFunc) apply(c *cfg) { f(c) }

// cfg holds a Writer's settings, defaulted in defaultCfg and checked in
// validate.
type cfg struct {
	batch     int
	timeout   time.Duration
	onCommand func(Command)
}

func defaultCfg() cfg {
	return cfg{batch: MaxBatch, timeout: DefaultCommandTimeout}
}

func (c *cfg) validate() error {
	switch {
	case c.batch < 1 || c.batch > MaxBatch:
		return fmt.Errorf("batch size %d is outside 1..%d", c.batch, MaxBatch)
	case c.timeout <= 0:
		return fmt.Errorf("command timeout %s must be positive", c.timeout)
	}
	return nil
}

// BatchSize is the number of documents per command (default and largest:
// MaxBatch).
func BatchSize(n int) Opt { return optFunc(func(c *cfg) { c.batch = n }) }

// CommandTimeout bounds each command (default DefaultCommandTimeout).
func CommandTimeout(d time.Duration) Opt { return optFunc(func(c *cfg) { c.timeout = d }) }

// OnCommand is called after every command, from the goroutine that ran it
// (metrics, logs, tests).
func OnCommand(f func(Command)) Opt { return optFunc(func(c *cfg) { c.onCommand = f }) }
